"""History in: `switchboard import ...` commands, each a backfill of one source's records."""
