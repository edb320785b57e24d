"""A request's query string and path parameters, parsed into their pydantic models.

Every refusal is the API's 400 `invalid_parameter` naming the parameter: unknown and repeated
parameters first, in the order given, then each field's own reason (fields.py), in the order
the model declares them. Only list fields (`enterprise_id`) may repeat.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from multidict import MultiMapping
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from api.contract.fields import REASON, OneOf
from api.errors import ApiError, invalid_parameter

M = TypeVar("M", bound=BaseModel)


def parameter_name(name: str, field: FieldInfo) -> str:
    """The name a client sends: the field's alias where it has one (`from`)."""
    alias = field.validation_alias
    return alias if isinstance(alias, str) else (field.alias or name)


def is_list(field: FieldInfo) -> bool:
    origin = typing.get_origin(field.annotation)
    return origin in (list, tuple, set, frozenset)


def parse_query(
    model: type[M], query: MultiMapping[str], *, context: Mapping[str, Any] | None = None
) -> M:
    """`query` as `model`, or the ApiError of its first mistake."""
    fields = {parameter_name(n, f): f for n, f in model.model_fields.items()}
    for name in query:
        if name not in fields:
            raise invalid_parameter(name, "unknown parameter")
        if not is_list(fields[name]) and len(query.getall(name)) > 1:
            raise invalid_parameter(name, "given more than once")
    data = {
        name: query.getall(name) if is_list(field) else query[name]
        for name, field in fields.items()
        if name in query
    }
    return validated(model, data, context)


def parse_path(model: type[M], match_info: Mapping[str, str]) -> M:
    """The path parameters of a matched route as `model`."""
    return validated(model, dict(match_info), None)


def validated(model: type[M], data: dict[str, Any], context: Mapping[str, Any] | None) -> M:
    try:
        return model.model_validate(data, context=dict(context or {}))
    except ValidationError as exc:
        raise _refusal(model, exc.errors()[0]) from None


def _refusal(model: type[BaseModel], error: ErrorDetails) -> ApiError:
    name = str(error["loc"][0]) if error["loc"] else "query"
    if error["type"] == REASON:
        return invalid_parameter(name, error["msg"])
    if error["type"] == "missing":
        return invalid_parameter(name, _required(model, name))
    return invalid_parameter(name, error["msg"])


def _required(model: type[BaseModel], name: str) -> str:
    for field_name, field in model.model_fields.items():
        if parameter_name(field_name, field) == name:
            words = next((m.allowed for m in field.metadata if isinstance(m, OneOf)), None)
            if words:
                return f"required, one of {', '.join(words)}"
    return "required"
