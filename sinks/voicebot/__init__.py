"""Room for the voice-bot sinks (contract section 9); the next issue fills it.

Batched, idempotent writes of what `streams.voicebot` folds into the PostgreSQL schema
`voicebot` (`calls`, `call_turns`, `call_tool_calls`, `customers`, `prompt_versions`,
`prompt_ab_tests`, `daily_stats`, `knowledge_articles`, `knowledge_embeddings`), their monthly
partitions and retention. Like every sink it may import `streams`, `schemas`, the other `sinks`
(`sinks.postgres`, `sinks.locks`, `sinks.partitions`) and the ground floor; never `api` or the
CLI.
"""
