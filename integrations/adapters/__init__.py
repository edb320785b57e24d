"""One module per integration type: a delivery becomes that system's HTTP requests, and its
answers become an outcome (`base.Adapter`). Pure: no asyncpg, no sockets; the delivery engine
sends what they build. Shared here: `answers` (2xx succeeds, 429 and 5xx retry after any
Retry-After, other statuses fail) and `masking` (secrets in logged requests show their last 4).

Adding a CRM is one file and one line. amoCRM (`POST /api/v4/calls`), for instance:

    # integrations/adapters/amocrm.py
    class AmoCrmAdapter:
        type = "amocrm"

        def requests(self, delivery, config, facts):
            if facts is None or delivery.event_type not in ("hangup", "download"):
                return ()
            call = {"uniq": facts.call_id, "phone": facts.phone_number,
                    "direction": "inbound" if facts.call_type == "incoming" else "outbound",
                    "duration": facts.duration_sec or 0, "source": "switchboard"}
            return (HttpRequest("POST", join_url(config.api_url, "/api/v4/calls"),
                                headers={"Authorization": f"Bearer {config.token}",
                                         "Idempotency-Key": delivery.idempotency_key},
                                json=[call], secrets=(config.token,)),)

        def judge(self, status, headers, body):
            return answers.by_status(status, headers, answers.body_text(body))

    ADAPTER = AmoCrmAdapter()

    # integrations/adapters/registry.py: the one line
        amocrm.ADAPTER.type: amocrm.ADAPTER,

(and its settings model in `integrations.config.models`, which every type has).
"""
