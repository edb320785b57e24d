"""Unit tests of the smart redirect's manager cache (integrations/smart_redirect)."""
