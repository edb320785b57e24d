"""Switchboard: contact-centre and deal-lifecycle events from Kafka to PostgreSQL."""

__version__ = "0.1.0"
