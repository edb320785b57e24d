"""Integration secrets at rest: Fernet-encrypted, tagged with their format, shown only masked.

The key is the setting `SWITCHBOARD_SECRET_KEY` (`switchboard up` generates one into its runtime
directory). Without it, nothing that stores or reads a secret works, and says why.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

# The stored form names its scheme, so a later key rotation or cipher can tell values apart.
PREFIX = "enc:v1:"
MASK = "****"
# A secret this short shows no character at all: its last 4 would be most of it.
_SHORTEST_SHOWN = 8


class SecretKeyMissing(RuntimeError):
    """A secret must be stored or read, and no key is configured."""

    def __init__(self) -> None:
        super().__init__(
            "no secret key configured: set SWITCHBOARD_SECRET_KEY (a Fernet key, e.g. from"
            " `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'`) or start `switchboard up`, which generates one"
        )


class SecretUnreadable(ValueError):
    """A stored secret that this key cannot decrypt (another key, or not our format)."""


class SecretBox:
    """Encrypts and decrypts integration secrets with one Fernet key; `None`: no key, and every
    use raises `SecretKeyMissing`."""

    def __init__(self, key: str | bytes | None) -> None:
        self._fernet: Fernet | None = None
        if key is None:
            return
        raw = key.strip() if isinstance(key, bytes) else key.strip().encode()
        try:
            self._fernet = Fernet(raw)
        except ValueError:
            # The key itself is never echoed: it is the secret of every secret.
            raise ValueError(
                "SWITCHBOARD_SECRET_KEY is not a Fernet key (32 bytes, url-safe base64)"
            ) from None

    @property
    def has_key(self) -> bool:
        return self._fernet is not None

    def _require(self) -> Fernet:
        if self._fernet is None:
            raise SecretKeyMissing()
        return self._fernet

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._require().encrypt(plain.encode()).decode("ascii")

    def decrypt(self, stored: str) -> str:
        fernet = self._require()
        if not stored.startswith(PREFIX):
            raise SecretUnreadable("not an encrypted secret (no enc:v1: prefix)")
        try:
            return fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable(
                "a stored secret does not decrypt with this SWITCHBOARD_SECRET_KEY"
            ) from None


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def mask(secret: str | None) -> str | None:
    """ "****" and the last 4 characters; a short secret is all stars."""
    if secret is None:
        return None
    if len(secret) < _SHORTEST_SHOWN:
        return MASK
    return MASK + secret[-4:]


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def ensure_key_file(path: Path) -> str:
    """The key kept in `path`, generated there (mode 0600) the first time."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        try:
            SecretBox(key)  # a damaged file fails here, not at the first secret
        except ValueError:
            # RuntimeError: `up` reports it as a message, not a traceback.
            raise RuntimeError(
                f"{path} holds no Fernet key: restore it (the stored integration secrets"
                " need it) or set SWITCHBOARD_SECRET_KEY"
            ) from None
        return key
    key = generate_key()
    with os.fdopen(fd, "w") as key_file:
        key_file.write(key + "\n")
    return key
