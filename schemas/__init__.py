"""The first stage of the flow: topic catalogue, Avro schemas, decoding and validation, and the
built-in Schema Registry's state (`registry`).

It may import only the ground floor (`switchboard.settings`, `.logging`, `.broker`, `.kafka`)
and third-party packages; every stage above it may import it.
"""
