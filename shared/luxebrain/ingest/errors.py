"""Ingest's domain errors; the receiver handler maps each to its HTTP status (status_code)."""

from __future__ import annotations

from luxebrain.errors import InvalidInputError, LuxeBrainError, NotFoundError, UnauthorizedError


class InvalidSignatureError(UnauthorizedError):
    """Missing or wrong X-WC-Webhook-Signature."""


class UnknownStoreError(NotFoundError):
    """No store with that id for that tenant."""


class PayloadTooLargeError(LuxeBrainError):
    status_code = 413


class BadDeliveryError(InvalidInputError):
    """A signed delivery the sender can fix: unsupported topic, body not JSON."""

    status_code = 400
