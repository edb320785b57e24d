"""A request or an answer as a log may hold it: every secret the request carries (a key in a
header, a bot token in the URL, a signature) replaced by its last 4 characters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from integrations.adapters.base import HttpRequest
from integrations.config.secrets import mask

# Headers whose whole value is a credential, whatever the adapter declared.
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "webhook-signature"})


def masked(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (JSON-like) with every occurrence of each secret masked, in keys and values."""
    hidden = sorted({s for s in secrets if s}, key=len, reverse=True)
    return _masked(value, hidden)


def _masked(value: Any, hidden: list[str]) -> Any:
    if isinstance(value, str):
        for secret in hidden:
            if secret in value:
                value = value.replace(secret, mask(secret) or "")
        return value
    if isinstance(value, Mapping):
        return {_masked(str(k), hidden): _masked(v, hidden) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, hidden) for v in value]
    return value


def masked_headers(headers: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    hidden = list(secrets)
    return {
        name: (mask(value) or "") if name.lower() in SECRET_HEADERS else masked(value, hidden)
        for name, value in headers.items()
    }


def masked_request(request: HttpRequest, secrets: Sequence[str] = ()) -> dict[str, Any]:
    """JSON-ready, for `integration_logs.request`: method, URL, headers and body, with the
    request's own secrets and `secrets` masked."""
    secrets = [*secrets, *request.secrets]
    logged: dict[str, Any] = {
        "method": request.method,
        "url": masked(request.url, secrets),
        "headers": masked_headers(request.headers, secrets),
    }
    if request.form is not None:
        logged["form"] = masked(dict(request.form), secrets)
    elif request.json is not None:
        logged["json"] = masked(request.json, secrets)
    elif request.body is not None:
        logged["body"] = masked(request.body.decode("utf-8", errors="replace"), secrets)
    return logged


def masked_text(text: str, request: HttpRequest) -> str:
    """An answer's body (or an error) with the request's secrets masked: a CRM may echo them."""
    result = masked(text, request.secrets)
    assert isinstance(result, str)
    return result
