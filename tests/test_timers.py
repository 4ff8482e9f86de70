"""The runtime's timers: callbacks that run on a worker's scheduler loop.

A timer callback (``_runtime.start_timer``: what ``goroutines.time`` and the
poller's timeouts are built on) runs on the scheduler greenlet, not in a
goroutine. An exception escaping one must not kill its worker: as a panic in
a Go timer function ends the program, it ends the run (``run`` re-raises the
same object, with a note naming the callback); the background runtime, which
has nobody to raise it to, prints it and carries on.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PATIENCE, recv_within

import goroutines.time as gtime
from goroutines import Chan, go, run
from goroutines._runtime import running_goroutine, start_timer

pytestmark = pytest.mark.timeout(30)


class Boom(Exception):
    pass


def boom(arg: Any, now: float) -> None:
    raise Boom(arg)


NOTE = f"raised in timer callback {__name__}.boom"


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt (a test runner may have changed that)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.allow_goroutine_leaks  # main, parked when the run ended
def test_an_exception_in_a_timer_callback_ends_the_run_with_a_note(procs: int) -> None:
    raised: list[BaseException] = []

    def failing(arg: Any, now: float) -> None:
        raised.append(Boom("in the callback"))
        raise raised[0]

    def main() -> None:
        start_timer(0, failing, None)
        recv_within(Chan())  # the run ends before this gives up

    with pytest.raises(Boom) as info:
        run(main, gomaxprocs=procs)
    assert info.value is raised[0]
    qualname = f"{__name__}.{failing.__qualname__}"
    assert info.value.__notes__ == [f"raised in timer callback {qualname}"]


@pytest.mark.allow_goroutine_leaks  # main, parked when the run ended
def test_a_timer_callback_failing_on_another_worker_ends_the_run() -> None:
    def arm() -> None:
        start_timer(0, boom, "on worker 1")  # on the worker running this goroutine

    def main() -> None:
        go(arm)  # gomaxprocs=2: may start on either worker
        recv_within(Chan())

    with pytest.raises(Boom, match="on worker 1") as info:
        run(main, gomaxprocs=2)
    assert info.value.__notes__ == [NOTE]


@pytest.mark.usefixtures("sigint_raises")
def test_keyboard_interrupt_landing_in_a_timer_callback_ends_the_run(procs: int) -> None:
    """SIGINT's handler runs on the main thread, wherever it is: here in a
    callback on the worker that run() made of the main thread."""

    def interrupted(arg: Any, now: float) -> None:
        signal.raise_signal(signal.SIGINT)
        for _ in range(10):  # the handler runs at the latest at a backward jump
            pass
        raise AssertionError("SIGINT's handler did not run in the callback")

    def main() -> None:
        start_timer(0, interrupted, None)  # main runs on the main thread's worker
        recv_within(Chan())

    with pytest.raises(KeyboardInterrupt) as info:
        run(main, gomaxprocs=procs)
    qualname = f"{__name__}.{interrupted.__qualname__}"
    assert info.value.__notes__ == [f"raised in timer callback {qualname}"]


@pytest.mark.allow_goroutine_leaks  # main, parked when the run ended
def test_the_run_after_a_failed_timer_callback_works(procs: int) -> None:
    def main() -> None:
        start_timer(0, boom, None)
        recv_within(Chan())

    with pytest.raises(Boom):
        run(main, gomaxprocs=procs)
    assert run(gtime.after(0).recv, gomaxprocs=procs) is not None


@pytest.mark.parametrize("procs", ["1", "2"])
@pytest.mark.parametrize("exc", ["Boom('bad')", "KeyboardInterrupt('bad')"])
def test_a_failing_background_timer_callback_is_printed_and_the_worker_carries_on(
    python: Any, procs: str, exc: str
) -> None:
    code = f"""
        import threading
        import goroutines
        from goroutines import Chan, go, time
        from goroutines._runtime import running_goroutine, start_timer

        class Boom(Exception):
            pass

        def boom(arg, now):
            raise {exc}

        fired = []

        def record(arg, now):
            fired.append(arg)

        # Due at the same instant on the same worker: the second still fires.
        start_timer(0, boom, None)
        start_timer(0, record, "after boom")
        # The worker runs timers and goroutines as before.
        print(time.after(0.01).recv() is not None, fired)
        done = Chan()
        go(done.send, "goroutine ran")
        print(done.recv())
    """
    status, out, err = python(code, env={"GOMAXPROCS": procs}, timeout=PATIENCE * 3)
    assert (status, out) == (0, "True ['after boom']\ngoroutine ran\n"), err
    assert "Traceback" in err
    assert f"{exc.split('(')[0]}: bad" in err
    assert "raised in timer callback __main__.boom" in err


def test_timer_callbacks_run_on_the_scheduler_not_in_a_goroutine() -> None:
    """What the tests above rely on: a callback runs where no goroutine runs."""
    seen = Chan[object](1)

    def look(arg: Any, now: float) -> None:
        seen.send(running_goroutine())  # a free slot: never blocks

    def main() -> object:
        start_timer(0, look, None)
        return recv_within(seen)

    assert run(main) is None
