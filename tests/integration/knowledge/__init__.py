"""Integration tests of the knowledge base: pgvector on a private pgserver, the real model."""
