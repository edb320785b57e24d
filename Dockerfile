# Switchboard: one image for every role; the command picks it (`switchboard api|worker|migrate`).

# The web dashboard's static build (api/dashboard/web -> api/dashboard/static), from the npm
# lock file; the image itself carries no Node.
FROM node:20-slim AS dashboard
WORKDIR /src/api/dashboard/web
COPY api/dashboard/web/package.json api/dashboard/web/package-lock.json api/dashboard/web/.npmrc ./
RUN npm ci --no-audit --no-fund
COPY api/dashboard/web/build.mjs ./
COPY api/dashboard/web/src ./src
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid switchboard --create-home \
        --home-dir /var/lib/switchboard --shell /usr/sbin/nologin switchboard

# Every dependency ships wheels for this platform (librdkafka comes inside confluent-kafka),
# so no compiler is needed. The package only, no dev extras.
COPY pyproject.toml README.md /src/
COPY switchboard /src/switchboard
COPY schemas /src/schemas
COPY streams /src/streams
COPY sinks /src/sinks
COPY api /src/api
COPY --from=dashboard /src/api/dashboard/static /src/api/dashboard/static
COPY integrations /src/integrations
COPY ops /src/ops
COPY migrations /src/migrations
RUN pip install /src && rm -rf /src

USER switchboard
# Faust keeps its data directory, and `switchboard` its runtime file, under the working
# directory, which must be writable by the unprivileged user.
WORKDIR /var/lib/switchboard
ENV SWITCHBOARD_HOME=/var/lib/switchboard/.switchboard \
    SWITCHBOARD_API_HOST=0.0.0.0 \
    SWITCHBOARD_API_PORT=8080

EXPOSE 8080
CMD ["switchboard", "api"]
