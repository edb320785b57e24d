"""The top floor: the `switchboard` command line (`main` parses it and dispatches) and the
commands that are small enough to live here (produce, reconcile, verify, tokens).

It may import every other layer: the runtime, simulation, imports, `api`, `sinks`, `streams`,
`schemas` and the ground floor. Nothing imports it except `switchboard.__main__`.
"""
