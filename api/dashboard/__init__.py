"""Room for the web dashboard served at `GET /` (contract section 11); the next issue fills it.

Static pages (wallboard, trends, operators, master deals, voice bot, integrations, operations)
and the route that serves them from the API process; the pages read the same `/api/...` routes
as any client, so their figures match the API exactly. `api.app` mounts it. A sibling of
`api.routes` (neither imports the other): it may import `api.analytics`, `api.contract`, the
shared `api` modules (auth, errors) and what `api` may import; never the CLI or the runtime.
"""
