"""The voice-bot sinks (contract section 9, seed 004): the `voicebot.*` topics into the
PostgreSQL schema `voicebot` (migration 0012).

`calls` keeps each call's newest version and recomputes what the calls make (`customers`,
`prompt_ab_tests`, `daily_stats`) from the stored calls, under sinks.locks; `turns` and
`tool_calls` store their raw rows once each; `latency_days` keeps each day's latencies per
group, which new turns and new versions of calls change; `prompts` keeps each prompt version's
newest state; `ab_tests` each test's, recounted; `retention` nulls old transcripts and drops
old monthly partitions (`calls`, `call_turns`, `call_tool_calls`). The knowledge base's tables are
`knowledge/`'s. Like every sink it may import `streams`, `schemas`, the other `sinks` and the
ground floor; never `api` or the CLI.
"""
