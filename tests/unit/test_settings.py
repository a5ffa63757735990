import pytest

from luxebrain.errors import ConfigurationError
from luxebrain.settings import Settings
from luxebrain.tenancy import tenant_partition, validate_tenant_id

VALID = {"APP_ENV": "local", "LUXEBRAIN_TABLE_NAME": "luxebrain-data", "LUXEBRAIN_MODELS_BUCKET": "models"}


def test_valid_environment_reads_into_settings() -> None:
    settings = Settings.from_environ({**VALID, "AWS_REGION": "eu-west-1"})
    assert settings.app_env == "local"
    assert settings.aws_region == "eu-west-1"


def test_missing_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="LUXEBRAIN_TABLE_NAME is not set"):
        Settings.from_environ({k: v for k, v in VALID.items() if k != "LUXEBRAIN_TABLE_NAME"})


def test_invalid_app_env_names_variable_and_value() -> None:
    with pytest.raises(ConfigurationError, match=r"APP_ENV .*'staging'"):
        Settings.from_environ({**VALID, "APP_ENV": "staging"})


def test_required_optional_setting_is_named() -> None:
    with pytest.raises(ConfigurationError, match="LUXEBRAIN_TRAIN_QUEUE_URL is not set"):
        Settings.from_environ(VALID).require("train_queue_url")


@pytest.mark.parametrize("bad", ["", "A", "UPPER-case", "-leading", "trailing-", "a" * 41, "has space", "x#y"])
def test_malformed_tenant_ids_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not well formed"):
        validate_tenant_id(bad)


def test_partition_keys_start_with_the_tenant() -> None:
    assert tenant_partition("t-abc123", "ORDER") == "TENANT#t-abc123#ORDER"
