"""Shared helpers for the goroutines test suite.

Rules the tests follow (see each helper):

- Never wait for something by sleeping: wait on a channel, or poll a condition
  with ``wait_until_blocked`` (which reads ``runtime.stack()``, the way trio's
  ``wait_all_tasks_blocked`` is used).
- A blocking operation that must block *forever* is checked through the
  deadlock detector: run it as the only thing left in a ``run`` and expect
  ``DeadlockError``. That is deterministic and takes no time.
- Programs whose output is the point (deadlock dumps, the background runtime,
  the ``GOMAXPROCS`` variable) run in a fresh interpreter via ``run_python``.
- A live plain thread that is not blocked in a goroutines primitive keeps the
  deadlock detector quiet, so a test that expects ``DeadlockError`` must not
  leave threads running behind it, and one that waits for a thread may simply
  wait (``recv_within`` bounds such waits all the same).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import goroutines
import goroutines.time as gtime
from goroutines import runtime

# A generous bound for anything that should take milliseconds; only ever
# reached when the implementation is broken.
PATIENCE = 10.0

_HEADER = re.compile(r"^goroutine (\d+) \[([^\]]*)\]:$", re.MULTILINE)


# ---- subprocess programs ---------------------------------------------------------------


def run_python(
    code: str,
    *,
    env: dict[str, str | None] | None = None,
    timeout: float = 60.0,
) -> tuple[int, str, str]:
    """Run ``code`` (dedented) in a fresh interpreter: (returncode, stdout, stderr).

    ``env`` entries are added to this process's environment; a value of None
    removes the variable.
    """
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def python() -> Callable[..., tuple[int, str, str]]:
    """``run_python`` as a fixture."""
    return run_python


# ---- goroutine dumps -------------------------------------------------------------------


def parse_stack(dump: str) -> dict[int, tuple[str, str]]:
    """Split a ``runtime.stack()`` dump: {goroutine id: (wait reason, its block)}.

    A block is the header line and every line up to the next header.
    """
    headers = list(_HEADER.finditer(dump))
    blocks: dict[int, tuple[str, str]] = {}
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(dump)
        blocks[int(match.group(1))] = (match.group(2), dump[match.start() : end])
    return blocks


def created_by(block: str, qualname: str, parent: int) -> bool:
    """Whether a dump block says it was created by ``qualname`` (optionally
    module-qualified, as Go writes ``main.main``) in goroutine ``parent``."""
    pattern = rf"^created by (\S+\.)?{re.escape(qualname)} in goroutine {parent}$"
    return re.search(pattern, block, re.MULTILINE) is not None


def wait_reasons() -> Counter[str]:
    """How many goroutines show each wait reason in ``runtime.stack()`` now."""
    return Counter(reason for reason, _ in parse_stack(runtime.stack()).values())


def wait_until_blocked(count: int, reason: str, timeout: float = 5.0) -> None:
    """Return once at least ``count`` goroutines are parked with ``reason``.

    Call it from a goroutine. It polls ``runtime.stack()``, yielding between
    polls, and fails the test after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    polls = 0
    while wait_reasons()[reason] < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"fewer than {count} goroutines in [{reason}] after {timeout}s:\n" + runtime.stack()
            )
        polls += 1
        if polls < 100:
            runtime.gosched()
        else:
            gtime.sleep(0.001)


# ---- bounded waits ---------------------------------------------------------------------


def recv_within(ch: Any, timeout: float = PATIENCE, *, ok: bool = False) -> Any:
    """``ch.recv()`` (``ch.recv_ok()`` if ``ok``), failing the test if nothing
    arrives within ``timeout`` seconds (a broken test then fails instead of
    hanging)."""
    timer = gtime.Timer(timeout)
    try:
        index, value = goroutines.select(ch.recv_ok if ok else ch.recv, timer.c.recv)
    finally:
        timer.stop()
    assert index == 0, f"nothing received within {timeout}s"
    return value


@pytest.fixture
def start_thread() -> Iterator[Callable[..., threading.Thread]]:
    """Start plain daemon threads; at teardown check that they all finished."""
    started: list[threading.Thread] = []

    def start(fn: Callable[..., Any], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=fn, args=args, daemon=True)
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.join(PATIENCE)
    alive = [t for t in started if t.is_alive()]
    assert not alive, f"plain threads still running after the test: {alive}"


# ---- shared fixtures and helpers of the coordination tests ------------------------------


@pytest.fixture(params=[1, 2], ids=["procs1", "procs2"])
def procs(request: pytest.FixtureRequest) -> int:
    """Run a test under gomaxprocs 1 and 2 (``run(main, gomaxprocs=procs)``)."""
    return request.param  # type: ignore[no-any-return]


def is_done(ctx: Any) -> bool:
    """A non-blocking look at ``ctx.done()``."""
    index, _ = goroutines.select(ctx.done().recv, goroutines.default)
    return index == 0
