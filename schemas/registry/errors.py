"""The Schema Registry's failures, each carrying the HTTP status and Confluent error code.

Clients branch on `error_code` (confluent-kafka raises `SchemaRegistryError` with it), so the
codes are Confluent's own, not ours to renumber.
"""

from __future__ import annotations

from typing import ClassVar


class RegistryError(Exception):
    """A request the registry refuses; `message` is safe to show to the client."""

    http_status: ClassVar[int] = 422
    error_code: ClassVar[int] = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SubjectNotFound(RegistryError):
    http_status = 404
    error_code = 40401

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' not found.")


class VersionNotFound(RegistryError):
    http_status = 404
    error_code = 40402

    def __init__(self, subject: str, version: int | str) -> None:
        super().__init__(f"Version {version} not found for subject '{subject}'.")


class SchemaNotFound(RegistryError):
    http_status = 404
    error_code = 40403


class SubjectSoftDeleted(RegistryError):
    http_status = 404
    error_code = 40404

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently."
        )


class SubjectNotSoftDeleted(RegistryError):
    http_status = 404
    error_code = 40405

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' was not deleted first before being permanently deleted."
        )


class VersionSoftDeleted(RegistryError):
    http_status = 404
    error_code = 40406

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' version {version} was soft deleted."
            " Set permanent=true to delete permanently."
        )


class VersionNotSoftDeleted(RegistryError):
    http_status = 404
    error_code = 40407

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' version {version} was not deleted first"
            " before being permanently deleted."
        )


class SubjectConfigNotFound(RegistryError):
    http_status = 404
    error_code = 40408

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' does not have subject-level compatibility configured."
        )


class IncompatibleSchema(RegistryError):
    http_status = 409
    error_code = 409


class InvalidSchema(RegistryError):
    error_code = 42201


class InvalidVersion(RegistryError):
    error_code = 42202

    def __init__(self, version: str) -> None:
        super().__init__(
            f"The specified version '{version}' is not a valid version id."
            ' Allowed values are between [1, 2^31-1] and the string "latest".'
        )


class InvalidCompatibilityLevel(RegistryError):
    error_code = 42203


class InvalidSubject(RegistryError):
    error_code = 42208


class BadRequest(RegistryError):
    """The request itself is malformed: its body is not JSON, or a parameter is not a number."""

    http_status = 400
    error_code = 400


class UnsupportedMediaType(RegistryError):
    http_status = 415
    error_code = 415
