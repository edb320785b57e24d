"""Faust wiring that every pipeline shares: the App, the agents' shared runtime, the agent and
dedup timer of one input topic, and the worker's own producers (error.events, masterdeal.*).

The only streams code besides `streams.app` that knows Faust. It never imports `sinks`: writing
is passed in as a function, and `streams.app`, the composition root, chooses which.
"""
