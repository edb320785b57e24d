"""The voice-bot domain (contract sections 4 and 9, seed 004), as pure logic.

`events` decodes the `voicebot.*` and `knowledge.articles` values; `calls` picks the winning
version of a call; `daily` computes the day's figures from call rows; `ab` gives a prompt A/B
test's verdict with SciPy's tests; `knowledge` chunks articles for embedding. Like every
`streams` domain folder it knows nothing of Faust, asyncpg or HTTP: it may import `schemas`,
the other `streams` folders and the ground floor (`switchboard.settings`, `.logging`,
`.broker`, `.kafka`); never `sinks` (only `streams.app` wires sinks), `api` or the CLI.
"""
