"""The asyncio workloads of impl_asyncio, unchanged, on uvloop's event loop."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from impl_asyncio import (
    buffered,
    mutex_contended,
    mutex_uncontended,
    ping_pong,
    ring,
    rss_parked,
    select_fan_in,
    sieve,
    spawn_join,
    waitgroup_fan,
)

__all__ = [
    "buffered",
    "mutex_contended",
    "mutex_uncontended",
    "ping_pong",
    "ring",
    "rss_parked",
    "run_async",
    "select_fan_in",
    "sieve",
    "spawn_join",
    "waitgroup_fan",
]


def run_async(main: Callable[[], Coroutine[Any, Any, float]]) -> float:
    return uvloop.run(main())
