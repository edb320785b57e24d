"""The web dashboard served at `GET /` (contract section 11).

Static pages (wallboard, trends, operators, master deals, voice bot, integrations, operations)
built from web/ (Preact, htm and uPlot, bundled by esbuild: `npm run build`, which
`make install` runs) into static/, and the routes that serve them from the API process
(serving.py). The pages read the same `/api/...` routes as any client, with the token the user
signs in with, so their figures match the API exactly. `api.app` mounts it. A sibling of
`api.routes` (neither imports the other): it may import `api.analytics`, `api.contract`, the
shared `api` modules (auth, errors) and what `api` may import; never the CLI or the runtime.
"""
