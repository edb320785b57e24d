"""Switchboard: contact-centre and deal-lifecycle events from Kafka to PostgreSQL.

Two floors. The ground floor (`settings`, `logging`, `console` for what commands print,
`broker` for broker quirks, `kafka` for Kafka config, admin and publishing) imports only
third-party packages, and every layer may import it. The top floor (`cli`, then `runtime`, then
`simulation` and `imports`) may import every layer below it; nothing below imports it.
"""

__version__ = "0.1.0"
