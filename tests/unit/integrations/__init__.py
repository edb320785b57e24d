"""Unit tests of the CRM integrations (contract section 8): configs, adapters, delivery logic."""
