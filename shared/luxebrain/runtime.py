"""Dependencies created once per execution environment: settings, boto3 clients, the table binding.

Handlers and domain adapters call these factories instead of building clients themselves, so a Lambda
container reuses them across invocations and tests / the local runtime can reset them in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache, lru_cache
from typing import Any, TypeVar

from luxebrain.settings import Settings, get_settings, reset_settings

_resetters: list[Callable[[], None]] = []
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def on_reset(resetter: Callable[[], None]) -> Callable[[], None]:
    """Register a cache that must be cleared when the environment changes (tests, local runtime)."""
    _resetters.append(resetter)
    return resetter


@cache
def aws_client(service: str) -> Any:
    """A boto3 client for the configured region; AWS_ENDPOINT_URL (when set) is honoured by boto3 itself.
    boto3 is imported on the first client, not with this module: most imports of it never make one."""
    import boto3
    from botocore.config import Config

    retries = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30)
    return boto3.session.Session().client(service, region_name=get_settings().aws_region, config=retries)


@lru_cache(maxsize=1)
def configured_settings() -> Settings:
    """Settings, with the pynamodb models bound to the configured table (done once)."""
    from luxebrain.storage import bind_table

    settings = get_settings()
    bind_table(settings.table_name, settings.aws_region)
    return settings


def reset_runtime() -> None:
    reset_settings()
    aws_client.cache_clear()
    configured_settings.cache_clear()
    for resetter in _resetters:
        resetter()


def overlapping(
    function: Callable[[_Item], _Result], items: Sequence[_Item], *, workers: int, name: str
) -> list[_Result]:
    """``function`` of each item, in order, up to ``workers`` at once: for independent AWS calls, whose round
    trips then overlap instead of queueing (botocore's pool holds 10 connections). One item runs inline."""
    if len(items) <= 1 or workers <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix=name) as pool:
        return list(pool.map(function, items))
