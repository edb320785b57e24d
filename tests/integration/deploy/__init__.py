"""Integration tests of the deployment files: the alert rules and the dashboard, checked with
promtool and against the /metrics of running Switchboard processes."""
