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
import signal
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
from goroutines._runtime.threads import thread_parker
from goroutines.testing import verify_none, wait_blocked

# A generous bound for anything that should take milliseconds; only ever
# reached when the implementation is broken.
PATIENCE = 10.0

_HEADER = re.compile(r"^goroutine (\d+) \[([^\]]*)\]:$", re.MULTILINE)


# ---- subprocess programs ---------------------------------------------------------------


def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a nested pytest run (``pytester``): a terminal wide enough that the
    short test summary keeps each failure's first line whole, and not "in CI"
    (pytest prints a failure's whole message in the summary when ``CI`` or
    ``BUILD_NUMBER`` is set, so its output would depend on the machine)."""
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)


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


def send_within(ch: Any, value: Any, timeout: float = PATIENCE) -> None:
    """``ch.send(value)``, failing the test if no receiver takes it (or no
    slot frees) within ``timeout`` seconds."""
    timer = gtime.Timer(timeout)
    try:
        index, _ = goroutines.select((ch.send, value), timer.c.recv)
    finally:
        timer.stop()
    assert index == 0, f"{value!r} not sent within {timeout}s"


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


# ---- interrupting the main thread while it waits -----------------------------------------


class Interrupted(Exception):
    """What the signal handler of ``interrupt_main`` raises in the main thread."""


class Peer:
    """Where a test's goroutines run, on the other side of objects the main
    thread (a plain thread here) waits on: the background runtime, or a run
    that another thread started with ``gomaxprocs`` 1 or 2."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._jobs: goroutines.Chan[tuple[Callable[..., Any], tuple[Any, ...]]] = goroutines.Chan()
        self._failure: list[BaseException] = []
        self._thread: threading.Thread | None = None
        if kind != "background":
            procs = int(kind.removeprefix("run"))
            self._thread = threading.Thread(target=self._run, args=(procs,), daemon=True)
            self._thread.start()

    def go(self, fn: Callable[..., Any], *args: Any) -> None:
        """Start ``fn(*args)`` as a goroutine there."""
        if self._thread is None:
            goroutines.go(fn, *args)
        else:
            self._jobs.send((fn, args))

    def wait_blocked(self, op: Callable[..., Any]) -> None:
        """``goroutines.testing.wait_blocked(op)`` for the goroutines there."""
        if self._thread is None:
            wait_blocked(op, timeout=PATIENCE)
            return
        done: goroutines.Chan[None] = goroutines.Chan(1)
        self.go(lambda: (wait_blocked(op, timeout=PATIENCE), done.send(None)))
        done.recv()

    def close(self) -> None:
        """Wait for the goroutines started here to finish (a run's main waits
        for them, then returns); raise what failed there."""
        if self._thread is not None:
            self._jobs.close()
            self._thread.join(PATIENCE)
            assert not self._thread.is_alive(), "the peer's run did not end"
        if self._failure:
            raise self._failure[0]

    def _run(self, procs: int) -> None:
        def main() -> None:
            while True:
                # recv_within: its timer keeps the deadlock detector quiet while
                # the test's main thread waits for something else.
                job, ok = recv_within(self._jobs, ok=True)
                if not ok:
                    break
                fn, args = job
                goroutines.go(fn, *args)
            verify_none()  # waits for the goroutines still finishing

        try:
            goroutines.run(main, gomaxprocs=procs)
        except BaseException as exc:
            self._failure.append(exc)


@pytest.fixture(params=["background", "run1", "run2"])
def peer(request: pytest.FixtureRequest) -> Iterator[Peer]:
    """A ``Peer``: the background runtime, or a run on another thread with
    gomaxprocs 1 or 2. At teardown its goroutines must have finished."""
    peer = Peer(request.param)
    yield peer
    peer.close()


# The signals whose handler ``interrupt_main`` installs for the test (POSIX).
INTERRUPTS = tuple(getattr(signal, name) for name in ("SIGUSR1", "SIGINT") if hasattr(signal, name))


@pytest.fixture
def interrupt_main() -> Iterator[Callable[..., None]]:
    """``interrupt_main(before=None, during=None, signum=SIGUSR1)``: once the
    main thread (the one running the test) is parked in a goroutines
    primitive, a helper thread calls ``before()``, then sends the main thread
    ``signum``, whose handler calls ``during()`` and raises in the main
    thread, where it waits: ``Interrupted`` for SIGUSR1, ``KeyboardInterrupt``
    for SIGINT (what Ctrl-C does to a program blocked in ``ch.recv()``).

    ``during`` runs on the main thread while its wait is being interrupted,
    before the exception: a wake-up it gives (a send to the receiver that is
    waiting, an unlock that hands over a mutex) races with the interruption
    and wins, deterministically."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers run on the main thread only")
    if not hasattr(signal, "pthread_kill") or len(INTERRUPTS) < 2:
        pytest.skip("needs POSIX signals and pthread_kill")
    parker = thread_parker()
    helpers: list[threading.Thread] = []
    failures: list[BaseException] = []
    actions: dict[str, Callable[[], object] | None] = {}

    def handler(signum: int, frame: Any) -> None:
        during = actions.pop("during", None)
        if during is not None:
            during()
        raise KeyboardInterrupt if signum == signal.SIGINT else Interrupted

    def interrupt(main_ident: int, before: Callable[[], object] | None, signum: int) -> None:
        try:
            deadline = time.monotonic() + PATIENCE
            while not parker.blocked:  # a flag the deadlock detector reads too
                assert time.monotonic() < deadline, "the main thread never parked"
                time.sleep(0.001)
            if before is not None:
                before()
        except BaseException as exc:
            failures.append(exc)
        finally:  # in any case: the main thread must not wait forever
            signal.pthread_kill(main_ident, signum)

    def start(
        before: Callable[[], object] | None = None,
        during: Callable[[], object] | None = None,
        signum: int = INTERRUPTS[0],
    ) -> None:
        actions["during"] = during
        main_ident = threading.main_thread().ident
        assert main_ident is not None
        helper = threading.Thread(target=interrupt, args=(main_ident, before, signum), daemon=True)
        helper.start()
        helpers.append(helper)

    previous = {signum: signal.signal(signum, handler) for signum in INTERRUPTS}
    try:
        yield start
    finally:
        for helper in helpers:
            helper.join(PATIENCE)
        for signum, old in previous.items():
            signal.signal(signum, old)
    assert not any(helper.is_alive() for helper in helpers)
    if failures:
        raise failures[0]
    assert not parker.blocked, "the main thread still counts as blocked"
