"""Room for the ops lag sampler (contract section 10); the next issue fills it.

It polls committed and end offsets per consumer group, topic and partition, keeps a window of
samples, estimates `lagSec` by interpolating the history of end offsets (as kafka-lag-exporter
does) and judges each window with the pure Burrow rules in `streams.runtime.lag_status`. Broker
access goes through `switchboard.kafka`. `/api/lag`, `switchboard lag [--watch]` and the
`switchboard_consumer_*` Prometheus series read from it. It may import what `ops` may.
"""
