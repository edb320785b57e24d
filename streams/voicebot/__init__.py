"""Room for the voice-bot domain (contract section 9); the next issue fills it.

Pure logic over the `voicebot.*` topics: folding calls, turns and tool calls, per-customer
totals, daily statistics, and chunking knowledge articles for embedding. Like every `streams`
domain folder it knows nothing of Faust, asyncpg or HTTP: it may import `schemas`, the other
`streams` folders and the ground floor (`switchboard.settings`, `.logging`, `.broker`,
`.kafka`); never `sinks` (only `streams.app` wires sinks), `api` or the CLI.
"""
