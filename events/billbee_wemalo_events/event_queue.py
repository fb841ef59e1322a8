"""The durable queue: one table, in SQLite next to the project or in the PostgreSQL of MELTANO_DATABASE_URI
(SQLAlchemy Core: one code path for both).

* `add` commits before the receiver answers 2xx: an answered delivery survives any crash after it.
* One pending row per duplicate key (a partial unique index): a repeated delivery costs nothing. A delivery
  equal to one already running or handled is queued again, since it may report a later change.
* Rows go pending -> running -> handled, or back to pending with a later `next_attempt_at` when their job
  failed, and to failed after `max_attempts`. A worker that starts puts rows left running by a killed one
  back to pending (`recover`): one `serve` per queue.
* Beside the events, the goods orders' links (table `billbee_wemalo_order_links`, ids only): which wemalo goods
  order id belongs to which Billbee order id (wemalo's externalId), per merchant, learnt in the same transaction
  from every accepted delivery that names both, so that the worker can restrict the job of an event that names only
  wemalo's id (`trackingnumber_added`; docs/api-contract.md, "wemalo: webhooks").
* Pruning (`prune`, the worker calls it about once an hour): handled events whose `handled_at` is older than the
  retention go, failed ones only after `FAILED_RETENTION_FACTOR` times as long (by their last attempt, which
  `next_attempt_at` keeps to within the 15-minute backoff), pending and running ones never; links whose
  `learned_at` (the last delivery that named them: the upsert renews it) is older than the retention go. One
  DELETE per table, on an index; a database made before pruning gets the two indexes when a queue opens it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Delete,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from billbee_wemalo_events.events import Event

PENDING, RUNNING, HANDLED, FAILED = "pending", "running", "handled", "failed"
# Failed events are what an operator investigates (`status` exits 1 while there are any): kept this many times
# the retention (90 days at the default 30), long enough to outlast a holiday or a monthly look.
FAILED_RETENTION_FACTOR = 3
metadata = MetaData()
events_table = Table(
    "billbee_wemalo_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("merchant", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("direction", String(32), nullable=False),
    Column("order_id", String(64)),  # None: the whole direction
    Column("delivery_id", String(128)),
    Column("dedup_key", String(64), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Column("status", String(16), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("handled_at", DateTime(timezone=True)),
    Column("last_error", String(500)),
)
Index("billbee_wemalo_events_one_pending", events_table.c.dedup_key, unique=True,
      sqlite_where=events_table.c.status == PENDING, postgresql_where=events_table.c.status == PENDING)
Index("billbee_wemalo_events_due", events_table.c.status, events_table.c.next_attempt_at)  # also: prune failed
# Added with pruning: `create_all` makes them for new tables only, `EventQueue._migrate` on older databases.
events_done_index = Index("billbee_wemalo_events_done", events_table.c.status, events_table.c.handled_at)
links_table = Table(
    "billbee_wemalo_order_links", metadata,
    Column("merchant", String(64), primary_key=True),
    Column("wemalo_order_id", String(64), primary_key=True),  # wemalo's own goods order id
    Column("order_id", String(64), nullable=False),  # the Billbee order id (= wemalo's externalId)
    Column("learned_at", DateTime(timezone=True), nullable=False),
)
links_learned_index = Index("billbee_wemalo_order_links_learned", links_table.c.learned_at)


def default_url(env: Mapping[str, str]) -> str:
    """The PostgreSQL of MELTANO_DATABASE_URI, else a SQLite file in the project's .meltano folder (its own
    file, not meltano.db: Meltano's SQLite takes one writer at a time)."""
    meltano = env.get("MELTANO_DATABASE_URI", "")
    if meltano.startswith(("postgresql", "postgres:")):
        return meltano.replace("postgres://", "postgresql://", 1)
    root = Path(env.get("MELTANO_PROJECT_ROOT") or ".")
    return f"sqlite:///{(root / '.meltano' / 'billbee-wemalo-events.db').resolve()}"


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they were written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Retention:
    """How long the queue keeps what is done: handled events and links `days`, failed events
    `FAILED_RETENTION_FACTOR` times as long; 0 = forever (no pruning)."""
    days: int

    @property
    def failed_days(self) -> int:
        return self.days * FAILED_RETENTION_FACTOR

    def describe(self) -> str:
        """What the queue still holds (the `status` line and the worker's log)."""
        if self.days <= 0:
            return "every event and order link (retention_days 0: nothing is pruned)"
        return (f"handled events and order links of the last {self.days} days, failed events of the last "
                f"{self.failed_days} days, pending ones however old")

    def as_dict(self) -> dict[str, int | None]:
        """Days per kind of row; None = kept forever."""
        keep = self.days > 0
        return {"handled_days": self.days if keep else None, "failed_days": self.failed_days if keep else None,
                "links_days": self.days if keep else None}


@dataclass(frozen=True)
class Pruned:
    events: int
    links: int


@dataclass(frozen=True)
class QueuedEvent:
    id: int
    merchant: str
    source: str
    kind: str
    direction: str
    order_id: str | None
    attempts: int
    received_at: datetime
    detail: dict[str, Any] = field(default_factory=dict, compare=False)  # ids only (Event.detail)

    @classmethod
    def of(cls, row: Any) -> QueuedEvent:
        received = _utc(row.received_at)
        assert received is not None
        return cls(row.id, row.merchant, row.source, row.kind, row.direction, row.order_id, row.attempts, received,
                   dict(row.detail or {}))


class EventQueue:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = self._engine(url)
        metadata.create_all(self.engine)
        self._migrate()

    def _migrate(self) -> None:
        """The indexes pruning reads by, on tables made before it (`create_all` skips existing tables). Only the
        missing ones (CREATE INDEX takes a lock that holds writes even when the index exists), with IF NOT
        EXISTS on both databases, so a receiver and a `status` opening the queue at once do not collide."""
        with self.engine.begin() as conn:
            schema = inspect(conn)
            for index in (events_done_index, links_learned_index):
                assert isinstance(index.table, Table)
                if index.name not in {i["name"] for i in schema.get_indexes(index.table.name)}:
                    conn.execute(CreateIndex(index, if_not_exists=True))

    @staticmethod
    def _engine(url: str) -> Engine:
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})

            @event.listens_for(engine, "connect")
            def _durable(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")  # the worker reads while the receiver writes
                cursor.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the 2xx
                cursor.close()
            return engine
        return create_engine(url, pool_pre_ping=True)

    def _dialect(self) -> Any:
        return postgresql if self.engine.dialect.name == "postgresql" else sqlite

    def _insert(self) -> Any:
        dialect = self._dialect()
        # RETURNING tells an inserted row from a duplicate on both databases (psycopg's rowcount is -1 with
        # RETURNING, which SQLAlchemy adds on PostgreSQL for the primary key).
        return dialect.insert(events_table).on_conflict_do_nothing(
            index_elements=[events_table.c.dedup_key], index_where=events_table.c.status == PENDING,
        ).returning(events_table.c.id)

    def _upsert_link(self) -> Any:
        statement = self._dialect().insert(links_table)
        return statement.on_conflict_do_update(
            index_elements=[links_table.c.merchant, links_table.c.wemalo_order_id],
            set_={"order_id": statement.excluded.order_id, "learned_at": statement.excluded.learned_at})

    def add(self, merchant: str, items: Iterable[tuple[Event, Any]],
            links: Iterable[tuple[str, str]] = ()) -> tuple[int, int]:
        """Queue the events of one delivery in one transaction; (queued, duplicates). Committed on return. `links`:
        (wemalo goods order id, Billbee order id) pairs the delivery named, kept (the latest wins) in the same
        transaction, also when its events are duplicates."""
        queued = duplicates = 0
        stamp = now()
        with self.engine.begin() as conn:
            for wemalo_order_id, order_id in dict(links).items():
                conn.execute(self._upsert_link().values(merchant=merchant, wemalo_order_id=wemalo_order_id,
                                                        order_id=order_id, learned_at=stamp))
            for ev, content in items:
                result = conn.execute(self._insert().values(
                    merchant=merchant, source=ev.source, kind=ev.kind, direction=ev.direction,
                    order_id=ev.order_id, delivery_id=ev.delivery_id, dedup_key=ev.dedup_key(merchant, content),
                    detail=ev.detail, status=PENDING, attempts=0, received_at=stamp, next_attempt_at=stamp))
                if result.first() is not None:
                    queued += 1
                else:
                    duplicates += 1
        return queued, duplicates

    def linked_orders(self, merchant: str, wemalo_order_ids: Iterable[str]) -> dict[str, str]:
        """The Billbee order id of each of these wemalo goods order ids the merchant's deliveries named with it;
        the ids never named are missing."""
        wanted = sorted(set(wemalo_order_ids))
        if not wanted:
            return {}
        c = links_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.wemalo_order_id, c.order_id)
                                .where(c.merchant == merchant, c.wemalo_order_id.in_(wanted))).all()
        return {wemalo_order_id: order_id for wemalo_order_id, order_id in rows}

    def recover(self) -> int:
        """Rows left running by a worker that was killed go back to pending (their job may not have finished)."""
        with self.engine.begin() as conn:
            return conn.execute(update(events_table).where(events_table.c.status == RUNNING)
                                .values(status=PENDING)).rowcount

    def due(self, at: datetime | None = None) -> list[QueuedEvent]:
        """Pending rows whose next attempt is due, oldest first."""
        c = events_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(events_table).where(c.status == PENDING, c.next_attempt_at <= (at or now()))
                                .order_by(c.id)).all()
        return [QueuedEvent.of(r) for r in rows]

    def claim(self, ids: Sequence[int]) -> list[int]:
        """Mark pending rows running; the ids actually claimed."""
        c = events_table.c
        claimed = []
        with self.engine.begin() as conn:
            for ident in ids:
                if conn.execute(update(events_table).where(c.id == ident, c.status == PENDING)
                                .values(status=RUNNING)).rowcount:
                    claimed.append(ident)
        return claimed

    def handled(self, ids: Sequence[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(events_table).where(events_table.c.id.in_(ids))
                         .values(status=HANDLED, handled_at=now(), last_error=None))

    def failed(self, ids: Sequence[int], error: str, retry_in: timedelta, max_attempts: int,
               at: datetime | None = None) -> None:
        """A failed job: each row is tried again after `retry_in`, or stays failed after `max_attempts`."""
        c = events_table.c
        with self.engine.begin() as conn:
            conn.execute(update(events_table).where(c.id.in_(ids))
                         .values(attempts=c.attempts + 1, last_error=error[:500], status=PENDING,
                                 next_attempt_at=(at or now()) + retry_in))
            conn.execute(update(events_table).where(c.id.in_(ids), c.attempts >= max_attempts)
                         .values(status=FAILED))

    def prune(self, retention: Retention, at: datetime | None = None) -> Pruned:
        """Delete handled events and links older than the retention, failed events older than its failed
        retention; pending and running events never. One DELETE per table (`prune_statements`)."""
        if retention.days <= 0:
            return Pruned(0, 0)
        events, links = prune_statements(retention, at or now())
        with self.engine.begin() as conn:
            return Pruned(conn.execute(events).rowcount, conn.execute(links).rowcount)

    def oldest_received(self, merchant: str | None = None) -> datetime | None:
        """When the oldest event still in the queue arrived (None: the queue is empty)."""
        c = events_table.c
        query = select(func.min(c.received_at))
        if merchant is not None:
            query = query.where(c.merchant == merchant)
        with self.engine.connect() as conn:
            return _utc(conn.execute(query).scalar())

    def counts(self, merchant: str | None = None) -> dict[str, int]:
        """received (every row still kept: see `prune`), and per status: pending (running included), handled,
        failed."""
        c = events_table.c
        query = select(c.status, func.count()).group_by(c.status)
        if merchant is not None:
            query = query.where(c.merchant == merchant)
        with self.engine.connect() as conn:
            by_status: Counter[str] = Counter({status: n for status, n in conn.execute(query).all()})
        return {"received": sum(by_status.values()), "handled": by_status[HANDLED], "failed": by_status[FAILED],
                "pending": by_status[PENDING] + by_status[RUNNING]}

    def rows(self, merchant: str | None = None) -> list[dict[str, Any]]:
        c = events_table.c
        query = select(events_table).order_by(c.id)
        if merchant is not None:
            query = query.where(c.merchant == merchant)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query).all()]

    def close(self) -> None:
        self.engine.dispose()


def prune_statements(retention: Retention, at: datetime) -> tuple[Delete, Delete]:
    """The two DELETEs of `EventQueue.prune`: events on the indexes (status, handled_at) and (status,
    next_attempt_at), links on (learned_at)."""
    cutoff, failed_cutoff = at - timedelta(days=retention.days), at - timedelta(days=retention.failed_days)
    c = events_table.c
    done = or_(and_(c.status == HANDLED, c.handled_at < cutoff),
               and_(c.status == FAILED, c.next_attempt_at < failed_cutoff))
    return delete(events_table).where(done), delete(links_table).where(links_table.c.learned_at < cutoff)


def queue_from_env(env: Mapping[str, str] | None = None) -> EventQueue:
    env = os.environ if env is None else env
    return EventQueue(env.get("BILLBEE_WEMALO_EVENTS_DATABASE_URL") or default_url(env))
