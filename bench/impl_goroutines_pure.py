"""goroutines with its pure-Python core (``GOROUTINES_PURE=1``): the same workloads as
``impl_goroutines``, so that the table shows the compiled core's column beside its reference."""

from __future__ import annotations

import os

os.environ["GOROUTINES_PURE"] = "1"  # before goroutines is imported

import goroutines

from impl_goroutines import (
    buffered,
    context_cancel,
    mutex_contended,
    mutex_uncontended,
    ping_pong,
    ping_pong_no_preemption,
    ping_pong_traced,
    ring,
    rss_parked,
    select_fan_in,
    sieve,
    spawn_join,
    waitgroup_fan,
)

if goroutines.runtime.compiled:
    raise RuntimeError("goroutines was imported before GOROUTINES_PURE was set")

__all__ = [
    "buffered",
    "context_cancel",
    "mutex_contended",
    "mutex_uncontended",
    "ping_pong",
    "ping_pong_no_preemption",
    "ping_pong_traced",
    "ring",
    "rss_parked",
    "select_fan_in",
    "sieve",
    "spawn_join",
    "waitgroup_fan",
]
