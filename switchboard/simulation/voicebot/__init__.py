"""A tyre shop's AI voice bot (seed 004) with its ground truth.

Each enterprise's bot takes calls about tyres, orders, fittings, delivery and warranties; each
call is played turn by turn (`dialogue`) with STT, LLM and TTS latencies, tool calls that
sometimes fail, prompt versions A and B under an A/B test (B really is better, and dearer), and
costs per component. Callers who want an operator, or whom the bot cannot help, are handed over
to the simulated contact centre's queues under the same call_id, so the hand-over joins the queue
session that follows. Everything is published as the bot platform would (`voicebot.*`,
`knowledge.articles`), and `truth` computes from those records alone what the voice-bot API must
report. Pure: no clock, no network; the same seed gives the same stream.
"""

from switchboard.simulation.voicebot.bot import BotConfig, VoiceBot, visits_of

__all__ = ["BotConfig", "VoiceBot", "visits_of"]
