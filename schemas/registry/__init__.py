"""The built-in Confluent-compatible Schema Registry: Avro compatibility (`compat`), its
PostgreSQL state (`store`) and its failures (`errors`). The HTTP face is
`api.routes.schema_registry`.

Like the rest of `schemas`, it may import only the ground floor and third-party packages.
"""
