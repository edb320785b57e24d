"""Telephony's PostgreSQL writes: calls and their participants and events, queue events, agent
events and the agent-state facts derived from them, and the call-events retention.

Each sink locks through `sinks.locks`, re-folds with the pure functions of `streams.telephony`
and upserts. It may import the shared `sinks` modules, `streams` (never `streams.app`),
`schemas` and the ground floor; never `api` or the CLI.
"""
