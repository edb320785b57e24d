"""The voice bot's latency summary (voicebot.latency_days) against a real PostgreSQL."""
