"""Contact addresses: validation (e-mail, E.164 phone numbers), normalisation and the hash suppression
records are keyed by (so a STOP list needs no customer record and holds no raw number)."""

from __future__ import annotations

import hashlib
import re

from luxebrain.errors import InvalidInputError

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Deliberately simple: one @, a dot in the domain, no spaces. SES rejects the rest with a clear error.
EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)

# Countries of the sample stores and common luxury markets -> the time zone most of their people live in.
COUNTRY_TIMEZONES: dict[str, str] = {
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "IT": "Europe/Rome",
    "US": "America/New_York",
    "CH": "Europe/Zurich",
    "ES": "Europe/Madrid",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "AE": "Asia/Dubai",
    "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "SG": "Asia/Singapore",
    "AU": "Australia/Sydney",
    "CA": "America/Toronto",
}


def normalise_email(address: str) -> str:
    value = (address or "").strip()
    if not EMAIL.fullmatch(value):
        raise InvalidInputError("the e-mail address is not valid")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_phone(number: str) -> str:
    """E.164: '+' then up to 15 digits; spaces, dots, dashes and brackets are dropped first."""
    value = re.sub(r"[\s().-]", "", number or "")
    if value.startswith("00"):
        value = "+" + value[2:]
    if not E164.fullmatch(value):
        raise InvalidInputError("the phone number is not in E.164 form (+ country code and number)")
    return value


def normalise_address(channel: str, address: str) -> str:
    return normalise_email(address) if channel == "email" else normalise_phone(address)


def address_hash(channel: str, address: str) -> str:
    """Hash of the normalised address; SMS and WhatsApp share phone numbers, so they share the hash space."""
    value = normalise_address(channel, address).lower()
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def timezone_for_country(country: str | None, default: str) -> str:
    return COUNTRY_TIMEZONES.get((country or "").upper(), default)
