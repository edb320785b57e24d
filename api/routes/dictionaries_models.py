"""The HTTP contract of GET /api/dictionaries/{kind}: what it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from streams.reference.dimensions import KINDS

# The dimension kinds are a runtime tuple of the reference domain; the document lists them.
KIND_ENUM = Field(json_schema_extra={"enum": list(KINDS)})


class DictionaryMember(BaseModel):
    """One version of a member of a dimension; the contract names its fields in camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)

    id: str
    name: str
    parent_id: str | None
    attributes: dict[str, str]
    deleted: bool
    source_system: str = Field(description="The source of this version (the kind's master wins).")
    valid_from: datetime
    valid_to: datetime | None = Field(description="null: current.")
    enterprise_id: str = Field(description="'' for a global member.")


class Dictionary(BaseModel):
    """The members of one dimension, current or as of `at`."""

    kind: Annotated[str, KIND_ENUM]
    at: datetime | None = Field(description="`at` as given, in UTC.")
    items: list[DictionaryMember] = Field(description="Ordered by id, then enterpriseId.")
