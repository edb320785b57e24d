"""What a test asks of an answer besides its values: that it is what the OpenAPI document says,
the route's response model, validated strictly from JSON as a client reads it."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel


def conforms(model: type[BaseModel], answer: Any) -> None:
    """Raises pydantic's ValidationError unless `answer` (parsed JSON) is a `model`."""
    model.model_validate_json(orjson.dumps(answer), strict=True)
