# The connector as one image: Meltano (official image), this project's meltano.yml and the four plugins,
# installed at build time. Nothing secret and no state inside: secrets come from the environment (e.g.
# TAP_BILLBEE_PASSWORD, TARGET_WEMALO_TOKEN), state and run history from MELTANO_DATABASE_URI (PostgreSQL).
#
#   docker build --build-arg CONNECTOR_VERSION="$(git describe --tags --match 'v[0-9]*' | sed 's/^v//')" \
#     -t billbee-wemalo .
#   docker run --rm --env-file merchant-a.env \
#     -e MELTANO_DATABASE_URI=postgresql+psycopg://meltano:...@db:5432/meltano \
#     billbee-wemalo run sync --state-id-suffix=merchant-a
#
# The webhook receiver (billbee-wemalo-events, docs/deployment.md) from the same image: it listens on 8765, on all
# interfaces inside the container; a TLS-terminating reverse proxy goes in front of it.
#   docker run -d --env-file merchant-a.env -e MELTANO_DATABASE_URI=... -e BILLBEE_WEMALO_EVENTS_HOST=0.0.0.0 \
#     -p 127.0.0.1:8765:8765 billbee-wemalo invoke billbee-wemalo-events:serve
#
# The full image (not -slim) is used because it carries the PostgreSQL driver for MELTANO_DATABASE_URI.
# Tag scheme of the official images: v<meltano version>-python<x.y> (override with --build-arg MELTANO_IMAGE).
ARG MELTANO_IMAGE=meltano/meltano:v4.4.1-python3.12
FROM ${MELTANO_IMAGE}

WORKDIR /project
ENV MELTANO_ENVIRONMENT=prod \
    MELTANO_SEND_ANONYMOUS_USAGE_STATS=false \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

# The project: meltano.yml, the plugins and the shared core they depend on (.dockerignore keeps out
# .env, .meltano, virtualenvs, tests and the sandbox).
COPY . .

# The plugins' versions come from git tags, and .git is not in the build context: pass the version in.
ARG CONNECTOR_VERSION=0.0.0
RUN SETUPTOOLS_SCM_PRETEND_VERSION="${CONNECTOR_VERSION}" meltano install \
 && for plugin in tap-billbee target-wemalo tap-wemalo-shipments target-billbee; do \
      meltano invoke "$plugin" --about --format=json > /dev/null; done \
 && meltano invoke billbee-wemalo-events --help > /dev/null \
 && rm -rf /root/.cache .meltano/meltano.db

# Reports of the targets (report_dir) go to /project/output; mount a volume there to keep them.
VOLUME ["/project/output"]
# The webhook receiver's port (only when the container runs `invoke billbee-wemalo-events:serve`).
EXPOSE 8765

ENTRYPOINT ["meltano"]
CMD ["run", "sync"]
