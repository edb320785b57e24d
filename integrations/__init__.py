"""Room for the CRM delivery engine (contract section 8); the next issue fills it.

Call events fan out to each tenant's CRMs here, never slowing the stream: `config` (the
per-tenant `integrations_config`, its cache and LISTEN/NOTIFY reload), `delivery` (the durable
queue, retries, rate and concurrency limits, circuit breakers, `integration_logs`), and one
module per CRM (`retailcrm`, `mediapush`, `webhook`, `telegram`) that turns a call event into
that CRM's requests.

Layer: above `sinks` (it reads call rows and writes delivery state to PostgreSQL), below `api`
(whose `/api/integrations` routes use its config and test calls). It may import `sinks`,
`streams`, `schemas` and the ground floor (`switchboard.settings`, `.logging`, `.broker`,
`.kafka`); never `api`, the CLI or the runtime, which start it. It and `ops` do not import
each other.
"""
