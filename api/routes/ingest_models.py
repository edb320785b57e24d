"""The HTTP contract of POST /api/ingest/interactions: its body and its answer.

An item is streams.contact_centre.interaction_post's InteractionPost, the model the record is
built from, so what the document says of an item is what the route accepts.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.alias_generators import to_camel

from streams.contact_centre.interaction_post import InteractionPost

MAX_ITEMS = 1000


class InteractionBatch(RootModel[InteractionPost | list[InteractionPost]]):
    """One interaction, or an array of 1 to 1000 (MAX_ITEMS) of them."""

    root: (
        InteractionPost
        | Annotated[list[InteractionPost], Field(min_length=1, max_length=MAX_ITEMS)]
    )


class IngestedId(BaseModel):
    """The ids of one posted item; the contract names them in camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)

    external_id: str
    interaction_id: str = Field(description="call_id, else conversation_id, else external_id.")
    event_id: str = Field(description="A hash of the content: the same for a repeat.")


class Ingested(BaseModel):
    """What the broker acknowledged."""

    ids: list[IngestedId] = Field(description="One per item, in the order posted.")
