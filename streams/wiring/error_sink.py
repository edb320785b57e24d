"""error.events through the worker's own producer: what a pipeline refuses, and why."""

from __future__ import annotations

import faust

from schemas.codec import TopicCodec
from streams.runtime.error_records import error_record
from streams.runtime.ingest import ErrorSink
from streams.runtime.kafka_message import Message
from streams.runtime.outage import any_error, wait_out
from streams.wiring.producer import send


class TopicErrorSink(ErrorSink):
    """error.events through the worker's own producer, so Faust flushes it before committing."""

    def __init__(self, topic: faust.TopicT, codec: TopicCodec) -> None:
        self.topic = topic
        self.codec = codec

    async def publish(self, message: Message, reason: str, *, stage: str, attempts: int) -> None:
        # A registry that refuses or is away must not cost the message: the batch waits.
        await wait_out(self.codec.register, what="schema registry", transient=any_error)
        value = self.codec.encode(error_record(message, reason, stage=stage, attempts=attempts))
        await send(self.topic, message.key, value)
