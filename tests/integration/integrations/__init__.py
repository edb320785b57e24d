"""CRM integrations against real PostgreSQL and a real fake CRM over loopback (section 8)."""
