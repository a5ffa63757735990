import json
import logging

from luxebrain.observability import REDACTED, RedactingFilter, redact


def test_redact_hides_secrets_and_personal_data_recursively() -> None:
    payload = {
        "webhook_secret": "s3cr3t",
        "billing": {"email": "a@b.com", "phone": "+331"},
        "note": "mail x@y.fr",
    }
    cleaned = redact(payload)
    assert cleaned["webhook_secret"] == REDACTED
    assert cleaned["billing"] == {"email": REDACTED, "phone": REDACTED}
    assert "x@y.fr" not in cleaned["note"]


def test_filter_scrubs_extras_on_a_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "customer jane@doe.com signed up", None, None)
    record.authorization = "Bearer abc"
    record.order = {"id": 1, "billing": {"email": "jane@doe.com"}}
    RedactingFilter().filter(record)
    text = json.dumps({k: str(v) for k, v in record.__dict__.items()})
    assert "jane@doe.com" not in text
    assert "Bearer abc" not in text


def test_phone_numbers_in_provider_errors_are_scrubbed() -> None:
    cleaned = redact({"reason": "Invalid parameter: PhoneNumber Reason: +33 6 12 34 56 78 is not valid"})
    assert "12 34" not in cleaned["reason"]
    assert cleaned["reason"].startswith("Invalid parameter")
