"""goroutines.testing.synctest: a run with a fake clock (Go's testing/synctest)."""

from __future__ import annotations

import random
import time

import pytest

import goroutines
import goroutines.time as gtime
from goroutines import Chan, DeadlockError, blocking, context, go, select, sync
from goroutines.testing import synctest, verify_none

START = 946_684_800.0  # 2000-01-01 00:00:00 UTC, where Go's bubbles start


def test_the_clock_starts_at_go_s_epoch_and_stands_still_while_main_runs(procs: int) -> None:
    def main() -> tuple[float, float]:
        first = gtime.now()
        sum(range(10_000))  # real time passes; the fake clock does not
        return first, gtime.now()

    assert synctest.run(main, gomaxprocs=procs) == (START, START)


def test_sleep_jumps_the_clock_and_takes_no_real_time(procs: int) -> None:
    def main() -> float:
        gtime.sleep(3600)
        gtime.sleep(gtime.Minute)
        return gtime.since(START)

    began = time.monotonic()
    assert synctest.run(main, gomaxprocs=procs) == 3660.0
    assert time.monotonic() - began < 5.0  # an hour of fake time; generous real bound


def test_a_context_deadline_fires_at_exactly_its_time(procs: int) -> None:
    def main() -> tuple[float, BaseException | None]:
        ctx, cancel = context.with_timeout(context.background(), 30)
        ctx.done().recv()
        cancel()
        return gtime.since(START), ctx.err()

    elapsed, err = synctest.run(main, gomaxprocs=procs)
    assert elapsed == 30.0
    assert isinstance(err, context.DeadlineExceeded)


def test_timers_fire_in_deadline_order_with_their_own_times(procs: int) -> None:
    delays = [random.Random(seed).uniform(0, 100) for seed in range(200)]

    def main() -> list[tuple[float, float]]:
        woke: Chan[tuple[float, float]] = Chan(len(delays))

        def sleeper(delay: float) -> None:
            gtime.sleep(delay)
            woke.send((delay, gtime.since(START)))

        for delay in delays:
            go(sleeper, delay)
        return [woke.recv() for _ in delays]

    woke = synctest.run(main, gomaxprocs=procs)
    assert [delay for delay, _ in woke] == sorted(delays)
    assert all(now == (START + delay) - START for delay, now in woke)


def test_a_ticker_ticks_on_the_fake_clock(procs: int) -> None:
    def main() -> list[float]:
        ticker = gtime.Ticker(1.5)
        ticks = [ticker.c.recv() - START for _ in range(4)]
        ticker.stop()
        return ticks

    assert synctest.run(main, gomaxprocs=procs) == [1.5, 3.0, 4.5, 6.0]


def test_select_with_a_timeout_takes_the_timeout_only_when_nothing_else_can_run(
    procs: int,
) -> None:
    def main() -> tuple[int, int, float]:
        ready: Chan[str] = Chan()
        never: Chan[str] = Chan()
        go(lambda: ready.send("work"))
        first, _ = select(ready.recv, gtime.after(0.001).recv)
        second, _ = select(never.recv, gtime.after(5).recv)
        return first, second, gtime.since(START)

    assert synctest.run(main, gomaxprocs=procs) == (0, 1, 5.0)


def test_timer_stop_and_reset_on_the_fake_clock(procs: int) -> None:
    def main() -> tuple[bool, float]:
        stopped = gtime.Timer(10)
        assert stopped.stop()
        timer = gtime.Timer(10)
        gtime.sleep(4)
        timer.reset(10)  # now due at 14
        fired_at = timer.c.recv() - START
        return stopped.reset(1), fired_at

    assert synctest.run(main, gomaxprocs=procs) == (False, 14.0)


def test_wait_returns_once_the_others_are_durably_blocked_before_time_moves(
    procs: int,
) -> None:
    def main() -> list[str]:
        events: list[str] = []
        gate: Chan[None] = Chan()
        mu = sync.Mutex()

        def worker(name: str) -> None:
            events.append(f"{name} started")
            gate.recv()
            with mu:
                events.append(f"{name} done")

        for name in ("a", "b", "c"):
            go(worker, name)
        synctest.wait()
        events.append(f"waited at {gtime.since(START)}")
        gate.close()
        synctest.wait()
        events.append(f"waited again at {gtime.since(START)}")
        return events

    events = synctest.run(main, gomaxprocs=procs)
    assert sorted(events[:3]) == ["a started", "b started", "c started"]
    assert events[3] == "waited at 0.0"
    assert sorted(events[4:7]) == ["a done", "b done", "c done"]
    assert events[7] == "waited again at 0.0"


def test_wait_with_sleepers_returns_before_the_clock_moves(procs: int) -> None:
    def main() -> tuple[float, float]:
        go(gtime.sleep, 60)
        synctest.wait()
        before = gtime.since(START)
        gtime.sleep(120)  # the sleeper wakes at 60, and so may main, at 120
        return before, gtime.since(START)

    assert synctest.run(main, gomaxprocs=procs) == (0.0, 120.0)


def test_the_clock_stands_still_while_a_blocking_call_runs(procs: int) -> None:
    """A goroutine in a ``blocking`` call (real time, on a helper thread) is
    not durably blocked, so the one-second timeout cannot win the race against
    a call that takes 50 real milliseconds."""

    def main() -> tuple[int, float]:
        done: Chan[None] = Chan()

        def slow() -> None:
            blocking(time.sleep, 0.05)
            done.send(None)

        go(slow)
        index, _ = select(done.recv, gtime.after(1).recv)
        return index, gtime.since(START)

    assert synctest.run(main, gomaxprocs=procs) == (0, 0.0)


@pytest.mark.allow_goroutine_leaks  # main, blocked for good, is abandoned
def test_everything_blocked_and_no_timer_is_still_a_deadlock(procs: int) -> None:
    def main() -> None:
        gtime.sleep(5)
        Chan().recv()

    with pytest.raises(DeadlockError, match="all goroutines are asleep"):
        synctest.run(main, gomaxprocs=procs)


def test_run_passes_arguments_and_returns_the_result() -> None:
    def main(a: int, *, b: int) -> int:
        gtime.sleep(1)
        return a + b

    assert synctest.run(main, 1, b=2) == 3


def test_the_clock_is_the_run_s_own() -> None:
    def main() -> float:
        return gtime.now()

    real_before = time.monotonic()
    assert synctest.run(main) == START
    assert goroutines.run(main) >= real_before  # a plain run keeps the real clock
    assert gtime.now() >= real_before  # and so does a plain thread


def test_wait_outside_a_synctest_run_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"synctest\.wait: call it from a goroutine"):
        synctest.wait()

    def main() -> None:
        synctest.wait()

    with pytest.raises(RuntimeError, match=r"synctest\.wait: call it from a goroutine"):
        goroutines.run(main)


def test_two_goroutines_waiting_at_once_is_an_error() -> None:
    def main() -> None:
        go(synctest.wait)
        while "synctest.Wait" not in goroutines.runtime.stack():
            goroutines.runtime.gosched()
        try:
            synctest.wait()
        finally:
            verify_none()  # the first one returns once main is blocked

    with pytest.raises(RuntimeError, match="another goroutine is waiting already"):
        synctest.run(main)


def test_bad_arguments_are_rejected_as_run_rejects_them() -> None:
    with pytest.raises(TypeError, match="main must be callable"):
        synctest.run(42)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="gomaxprocs must be >= 1"):
        synctest.run(lambda: None, gomaxprocs=0)
