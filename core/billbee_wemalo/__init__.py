"""billbee-wemalo-core: what the four plugins and the reconcile utility share, written once.

- ``http``: the HTTP session (auth, throttling, retries, redaction, streamed JSON) and its errors;
- ``billbee`` / ``wemalo``: one API client per system, with the vendor facts (order states, product types, tags);
- ``protocol``: the acknowledgement contract between target-wemalo and tap-billbee, carried in Singer state;
- ``report`` / ``state``: per-record outcomes and the run report; bookmarks a target holds back;
- ``lock``: one ``meltano run`` per merchant at a time (``billbee-wemalo-lock``).

Nothing is imported here, so ``billbee-wemalo-lock`` starts without loading requests or ijson.
"""
