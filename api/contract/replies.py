"""The error shape every route answers, and the error replies routes share (documented once,
under components/responses)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.contract.fields import omitted
from api.contract.route import Reply
from api.server import BODY_TIMEOUT_SEC


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Short snake_case cause.",
        examples=["invalid_parameter", "unauthorized", "forbidden", "not_found"],
    )
    message: str = Field(description="For people, not for parsing.")
    parameter: str = omitted("With `invalid_parameter`: the parameter at fault.")


class Error(BaseModel):
    """`{"error": {"code", "message"}}`, with details some codes add."""

    error: ErrorDetail


def error_reply(description: str, component: str | None = None) -> Reply:
    return Reply(description, Error, component=component)


INVALID_PARAMETER = error_reply(
    "A path or query parameter is invalid (`invalid_parameter`, with `parameter`), e.g. text"
    " holding NUL, which nothing can store.",
    "InvalidParameter",
)
BODY_TIMEOUT = error_reply(
    f"The body did not arrive within {BODY_TIMEOUT_SEC:g} s (`request_timeout`).", "BodyTimeout"
)
UNAUTHORIZED = error_reply("No bearer token, or one that is unknown or revoked.", "Unauthorized")
FORBIDDEN = error_reply("The enterprise is outside the token's enterprises.", "Forbidden")
NOT_FOUND = error_reply("No such resource.", "NotFound")
INTERNAL_ERROR = error_reply(
    "An unexpected error; the details are in the server's log.", "InternalError"
)
UNAVAILABLE = error_reply("The database is unavailable; retry later.", "Unavailable")
# What every bearer-protected operation may answer besides its own replies.
PROTECTED = {401: UNAUTHORIZED, 500: INTERNAL_ERROR, 503: UNAVAILABLE}
