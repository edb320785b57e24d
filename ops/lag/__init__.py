"""The ops lag sampler (contract 10): how far the worker group is behind, seen from outside.

`sampler` polls committed and end offsets per consumer group, topic and partition (through
`switchboard.kafka`), the integration outbox and the worker's heartbeat; `tracker` keeps a
window of samples per partition and judges it with the pure Burrow rules in
`streams.runtime.lag_status`; `lag_seconds` estimates `lagSec` by interpolating the history of
end offsets (as kafka-lag-exporter does); `metrics` exports the latest findings to Prometheus.
`/api/lag`, `/health`, `/metrics` and `switchboard lag [--watch]` read them. It may import
what `ops` may.
"""
