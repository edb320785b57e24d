"""Read side of the voice-bot analytics (contract section 9): the `voicebot` schema's tables in,
the figures of `/api/voicebot/...` out.

SQL selects and filters the stored rows of the request's enterprises and range; every figure is
computed once, in Python, by the pure domain (`streams.voicebot`: days, A/B verdicts) and the
project's one percentile (`streams.contact_centre.percentiles`), so the routes, the stream and
the tests share one definition of each. It may import `api.contract` and the lower layers;
never `api.routes`, which use it.
"""
