"""The live wallboard's reads (GET /api/wallboard): who is waiting in each queue right now, and
what state each agent is in, with the queues each agent answers for."""
