"""Ground floor: topic administration (`admin`), the one publisher used by ingest, produce,
simulate, the imports and reconcile (`publisher`), and consumer lag as data (`lag`). Client
settings and broker quirks stay in `switchboard.broker`.

Like the rest of the ground floor (`switchboard.settings`, `.logging`, `.console`, `.broker`)
it may import only third-party packages and its ground-floor siblings; every layer may import
it. It knows no schema: callers pass their topic descriptions and encoders in.
"""
