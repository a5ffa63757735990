"""Domain errors. Each maps to one HTTP status in one place (the API's error handler)."""

from __future__ import annotations


class LuxeBrainError(Exception):
    """Base of every error LuxeBrain raises on purpose; the message is safe to show a user."""

    status_code = 500


class ConfigurationError(LuxeBrainError):
    """A setting is missing or invalid; the message names the variable."""


class InvalidInputError(LuxeBrainError, ValueError):
    status_code = 422


class NotFoundError(LuxeBrainError):
    status_code = 404


class ConflictError(LuxeBrainError):
    status_code = 409


class UnauthorizedError(LuxeBrainError):
    status_code = 401


class ForbiddenError(LuxeBrainError):
    status_code = 403
