"""Room for the `/api/voicebot/...` routes (contract section 9); the next issue fills it.

One module per route family: daily stats, calls, latency, costs, tools, A/B tests, handoffs and
knowledge search, each read-only and scoped to the token's enterprises. Like every route it may
import the rest of `api` (auth, errors, params, the response models), `sinks`, `streams`,
`schemas` and the ground floor; never the CLI or the runtime.
"""
