"""``goroutines.time``: sleep, after, tick, Timer, Ticker, after_func, now/since.

Timing is the point of these tests, so they measure it, with generous upper
bounds (a loaded CI machine may be slow; it is never early).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from conftest import recv_within

import goroutines.time as gtime
from goroutines import Chan, RecvChan, default, go, nilchan, run, runtime, select
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(30)

SLACK = 2.0  # upper bound for anything that should take a few milliseconds more
EARLY = 1e-3  # clock granularity allowed when checking "not before"


def nothing_ready(ch: RecvChan[Any]) -> bool:
    """True if a receive on ``ch`` would block now."""
    return select(ch.recv, default)[0] == 1


# ---- sleep ------------------------------------------------------------------------------


def test_sleep_pauses_for_the_duration() -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.sleep(0.05)
        return time.monotonic() - start

    assert 0.05 - EARLY <= run(main) <= SLACK


def test_sleep_accepts_a_timedelta() -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.sleep(timedelta(milliseconds=50))
        return time.monotonic() - start

    assert 0.05 - EARLY <= run(main) <= SLACK


@pytest.mark.parametrize("duration", [0, -1, 0.0, timedelta(seconds=-5)])
def test_sleep_of_zero_or_less_returns_at_once(duration: Any) -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.sleep(duration)
        return time.monotonic() - start

    assert run(main) < 0.5


@pytest.mark.parametrize("duration", [0, -1, timedelta(0)])
def test_sleep_of_zero_or_less_yields_to_other_goroutines(duration: Any) -> None:
    # As asyncio.sleep(0) and gevent.sleep(0): a Python programmer writes
    # sleep(0) to let others run. On one worker, the goroutine started before
    # the call has run by the time it returns.
    def main() -> list[str]:
        events: list[str] = []
        go(events.append, "other ran")
        gtime.sleep(duration)
        events.append("main resumed")
        return events

    assert run(main, gomaxprocs=1) == ["other ran", "main resumed"]


@pytest.mark.parametrize("procs", [1, 2])
def test_sleeping_goroutines_cost_no_thread(procs: int) -> None:
    # 100 goroutines sleep 0.2 s at once: together they take about 0.2 s, not 20 s.
    def main() -> float:
        done: Chan[None] = Chan()
        start = time.monotonic()
        for _ in range(100):
            go(lambda: (gtime.sleep(0.2), done.send(None)))
        for _ in range(100):
            done.recv()
        returned = time.monotonic() - start
        verify_none()  # the goroutines it started have finished
        return returned

    assert 0.2 - EARLY <= run(main, gomaxprocs=procs) <= 0.2 + SLACK


def test_sleepers_wake_in_deadline_order() -> None:
    # Each goroutine sleeps until its own absolute deadline, 10 ms apart, in
    # the opposite order of creation; one processor runs them as they wake.
    def sleeper(k: int, deadline: float, out: Chan[int]) -> None:
        gtime.sleep(deadline - gtime.now())
        out.send(k)

    def main() -> list[object]:
        out: Chan[int] = Chan(20)
        base = gtime.now() + 0.05
        for k in range(20):
            go(sleeper, k, base + (19 - k) * 0.01, out)
        return [out.recv() for _ in range(20)]

    assert run(main, gomaxprocs=1) == list(reversed(range(20)))


def test_a_sleeping_goroutine_lets_others_run() -> None:
    def main() -> list[str]:
        events: Chan[str] = Chan(10)
        go(lambda: (gtime.sleep(0.5), events.send("sleeper woke")))
        ping: Chan[int] = Chan()
        go(lambda: [ping.send(i) for i in range(100)])
        total = sum(ping.recv() for _ in range(100))
        events.send(f"main got {total}")
        return [events.recv(), events.recv()]

    assert run(main, gomaxprocs=1) == ["main got 4950", "sleeper woke"]


def test_sleep_in_a_plain_thread_sleeps_that_thread() -> None:
    elapsed = []

    def thread() -> None:
        start = time.monotonic()
        gtime.sleep(0.05)
        elapsed.append(time.monotonic() - start)

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join(10)
    assert len(elapsed) == 1
    assert 0.05 - EARLY <= elapsed[0] <= SLACK


@pytest.mark.parametrize("bad", ["1", None, [1]])
def test_sleep_rejects_a_non_duration(bad: Any) -> None:
    def main() -> None:
        with pytest.raises(TypeError):
            gtime.sleep(bad)

    run(main)


# ---- after and tick ---------------------------------------------------------------------


def test_after_delivers_its_firing_time() -> None:
    def main() -> tuple[float, float, object, float]:
        start = gtime.now()
        value = gtime.after(0.05).recv()
        return start, gtime.now(), value, time.monotonic()

    start, end, value, _ = run(main)
    assert isinstance(value, float)
    assert start + 0.05 - EARLY <= value <= end
    assert end - start <= SLACK


def test_after_returns_a_recv_chan() -> None:
    assert run(lambda: isinstance(gtime.after(0), RecvChan))


def test_after_accepts_a_timedelta() -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.after(timedelta(milliseconds=50)).recv()
        return time.monotonic() - start

    assert 0.05 - EARLY <= run(main) <= SLACK


@pytest.mark.parametrize("duration", [0, -1])
def test_after_of_zero_or_less_fires_at_once(duration: float) -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.after(duration).recv()
        return time.monotonic() - start

    assert run(main) < 0.5


def test_after_delivers_exactly_one_value() -> None:
    def main() -> bool:
        c = gtime.after(0.01)
        c.recv()
        gtime.sleep(0.05)  # timing is the point: a second value would be here by now
        return nothing_ready(c)

    assert run(main)


def test_tick_delivers_repeatedly_and_never_early() -> None:
    def main() -> tuple[float, list[object], float]:
        start = gtime.now()
        c = gtime.tick(0.01)
        values = [c.recv() for _ in range(5)]
        return start, values, gtime.now()

    start, values, end = run(main)
    assert all(isinstance(v, float) for v in values)
    assert values == sorted(values)
    assert len(set(values)) == 5
    assert values[0] >= start + 0.01 - EARLY
    assert values[-1] >= start + 0.05 - EARLY
    assert end - start <= SLACK


def test_tick_accepts_a_timedelta() -> None:
    def main() -> float:
        start = time.monotonic()
        c = gtime.tick(timedelta(milliseconds=10))
        c.recv()
        c.recv()
        return time.monotonic() - start

    assert 0.02 - EARLY <= run(main) <= SLACK


@pytest.mark.parametrize("duration", [0, -1, timedelta(0)])
def test_tick_of_zero_or_less_returns_nilchan(duration: Any) -> None:
    # Go's time.Tick returns nil for d <= 0.
    assert gtime.tick(duration) is nilchan


# ---- Timer ------------------------------------------------------------------------------


def test_timer_fires_once_on_its_channel() -> None:
    def main() -> tuple[float, object, bool]:
        start = gtime.now()
        timer = gtime.Timer(0.02)
        value = timer.c.recv()
        gtime.sleep(0.05)  # timing is the point: no second value may come
        return start, value, nothing_ready(timer.c)

    start, value, silent = run(main)
    assert isinstance(value, float)
    assert value >= start + 0.02 - EARLY
    assert silent


def test_timer_channel_is_a_recv_chan_with_no_buffer() -> None:
    # Go 1.23: timer channels are unbuffered (len and cap are 0).
    def main() -> tuple[bool, int, int]:
        timer = gtime.Timer(0.01)
        gtime.sleep(0.03)  # fired, value not received
        result = isinstance(timer.c, RecvChan), len(timer.c), timer.c.cap
        timer.stop()
        return result

    assert run(main) == (True, 0, 0)


def test_timer_accepts_a_timedelta() -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.Timer(timedelta(milliseconds=30)).c.recv()
        return time.monotonic() - start

    assert 0.03 - EARLY <= run(main) <= SLACK


def test_stop_before_firing_returns_true_and_nothing_arrives() -> None:
    def main() -> tuple[bool, bool]:
        timer = gtime.Timer(0.1)
        stopped = timer.stop()
        gtime.sleep(0.15)  # timing is the point: past the original deadline
        return stopped, nothing_ready(timer.c)

    assert run(main) == (True, True)


def test_stop_after_the_value_was_received_returns_false() -> None:
    def main() -> bool:
        timer = gtime.Timer(0.01)
        timer.c.recv()
        return timer.stop()

    assert run(main) is False


def test_stop_twice_returns_false_the_second_time() -> None:
    def main() -> tuple[bool, bool]:
        timer = gtime.Timer(1.0)
        return timer.stop(), timer.stop()

    assert run(main) == (True, False)


def test_stop_after_expiry_without_receive_leaves_no_stale_value() -> None:
    # Go 1.23: the timer fired but nobody received; Stop returns true and no
    # receive after it can see the stale value.
    def main() -> tuple[bool, bool]:
        timer = gtime.Timer(0.01)
        gtime.sleep(0.05)
        return timer.stop(), nothing_ready(timer.c)

    assert run(main) == (True, True)


def test_reset_after_expiry_without_receive_leaves_no_stale_value() -> None:
    def main() -> tuple[bool, bool, float, object]:
        timer = gtime.Timer(0.01)
        gtime.sleep(0.05)  # fired, unreceived
        reset_at = gtime.now()
        was_active = timer.reset(0.05)
        stale = not nothing_ready(timer.c)
        return was_active, stale, reset_at, timer.c.recv()

    was_active, stale, reset_at, value = run(main)
    assert was_active is True
    assert stale is False
    assert isinstance(value, float)
    assert value >= reset_at + 0.05 - EARLY


def test_reset_of_a_pending_timer_moves_its_deadline() -> None:
    def main() -> tuple[bool, float, object]:
        timer = gtime.Timer(10.0)
        reset_at = gtime.now()
        was_active = timer.reset(0.03)
        return was_active, reset_at, timer.c.recv()

    was_active, reset_at, value = run(main)
    assert was_active is True
    assert reset_at + 0.03 - EARLY <= value <= reset_at + SLACK  # type: ignore[operator]


def test_reset_can_postpone_a_timer() -> None:
    def main() -> tuple[bool, float, object]:
        timer = gtime.Timer(0.02)
        reset_at = gtime.now()
        timer.reset(0.1)
        gtime.sleep(0.04)  # timing is the point: past the first deadline
        early = not nothing_ready(timer.c)
        return early, reset_at, timer.c.recv()

    early, reset_at, value = run(main)
    assert early is False
    assert value >= reset_at + 0.1 - EARLY  # type: ignore[operator]


def test_reset_of_a_stopped_timer_returns_false_and_fires_again() -> None:
    def main() -> tuple[bool, object]:
        timer = gtime.Timer(10.0)
        timer.stop()
        was_active = timer.reset(timedelta(milliseconds=10))
        return was_active, timer.c.recv()

    was_active, value = run(main)
    assert was_active is False
    assert isinstance(value, float)


def test_reset_of_a_received_timer_fires_again() -> None:
    def main() -> tuple[bool, object, object]:
        timer = gtime.Timer(0.01)
        first = timer.c.recv()
        was_active = timer.reset(0.01)
        return was_active, first, timer.c.recv()

    was_active, first, second = run(main)
    assert was_active is False
    assert second > first  # type: ignore[operator]


def test_timer_wakes_a_goroutine_already_waiting() -> None:
    def main() -> tuple[int, Any]:
        timer = gtime.Timer(0.03)
        result: Chan[tuple[int, Any]] = Chan()
        go(lambda: result.send(select(Chan().recv, timer.c.recv)))
        return result.recv()

    index, value = run(main)
    assert index == 1
    assert isinstance(value, float)


# ---- Ticker -----------------------------------------------------------------------------


def test_ticker_ticks_until_stopped() -> None:
    def main() -> tuple[list[object], bool]:
        ticker = gtime.Ticker(0.01)
        values = [ticker.c.recv() for _ in range(3)]
        ticker.stop()
        after_stop = nothing_ready(ticker.c)
        gtime.sleep(0.05)  # timing is the point: several periods pass
        return values, after_stop and nothing_ready(ticker.c)

    values, silent = run(main)
    assert values == sorted(values)
    assert len(set(values)) == 3
    assert silent


def test_ticker_reset_changes_the_period() -> None:
    def main() -> tuple[float, object]:
        ticker = gtime.Ticker(10.0)
        reset_at = gtime.now()
        ticker.reset(0.02)
        value = ticker.c.recv()
        ticker.stop()
        return reset_at, value

    reset_at, value = run(main)
    assert reset_at + 0.02 - EARLY <= value <= reset_at + SLACK  # type: ignore[operator]


def test_ticker_reset_drops_a_pending_tick() -> None:
    def main() -> bool:
        ticker = gtime.Ticker(0.01)
        gtime.sleep(0.05)  # a tick is waiting
        ticker.reset(1.0)
        silent = nothing_ready(ticker.c)
        ticker.stop()
        return silent

    assert run(main)


def test_ticker_drops_ticks_for_a_slow_receiver() -> None:
    # After six periods without receiving, there is no backlog of six ticks:
    # five immediate receives find one tick (two or three only if the
    # machine stalled for a period or two between them).
    def main() -> int:
        ticker = gtime.Ticker(0.05)
        gtime.sleep(0.3)
        ready = sum(not nothing_ready(ticker.c) for _ in range(5))
        ticker.stop()
        return ready

    assert 1 <= run(main) <= 3


def test_ticker_accepts_a_timedelta() -> None:
    def main() -> list[object]:
        ticker = gtime.Ticker(timedelta(milliseconds=10))
        first = ticker.c.recv()
        ticker.reset(timedelta(milliseconds=20))
        second = ticker.c.recv()
        ticker.stop()
        return [first, second]

    first, second = run(main)
    assert isinstance(first, float)
    assert second >= first + 0.02 - EARLY  # type: ignore[operator]


@pytest.mark.parametrize("period", [0, -1, timedelta(0)])
def test_ticker_with_a_non_positive_period_raises_value_error(period: Any) -> None:
    with pytest.raises(ValueError):
        gtime.Ticker(period)


def test_ticker_reset_with_a_non_positive_period_raises_value_error() -> None:
    def main() -> None:
        ticker = gtime.Ticker(1.0)
        try:
            with pytest.raises(ValueError):
                ticker.reset(0)
        finally:
            ticker.stop()

    run(main)


# ---- after_func -------------------------------------------------------------------------


def test_after_func_runs_f_in_its_own_goroutine() -> None:
    # f blocks on an unbuffered send until main receives: only a goroutine can.
    def main() -> tuple[float, object, bool]:
        out: Chan[float] = Chan()
        start = gtime.now()
        timer = gtime.after_func(0.03, lambda: out.send(gtime.now()))
        value = out.recv()
        return start, value, isinstance(timer, gtime.Timer)

    start, value, is_timer = run(main)
    assert value >= start + 0.03 - EARLY  # type: ignore[operator]
    assert is_timer


def test_after_func_accepts_a_timedelta() -> None:
    def main() -> object:
        out: Chan[str] = Chan()
        gtime.after_func(timedelta(milliseconds=10), lambda: out.send("ran"))
        return out.recv()

    assert run(main) == "ran"


def test_after_func_stop_prevents_the_call() -> None:
    def main() -> tuple[bool, bool]:
        out: Chan[str] = Chan(1)
        timer = gtime.after_func(0.1, lambda: out.send("ran"))
        stopped = timer.stop()
        gtime.sleep(0.15)  # timing is the point: past the deadline
        return stopped, nothing_ready(out)

    assert run(main) == (True, True)


def test_after_func_stop_after_the_call_started_returns_false() -> None:
    def main() -> tuple[object, bool]:
        out: Chan[str] = Chan()
        timer = gtime.after_func(0.01, lambda: out.send("ran"))
        return out.recv(), timer.stop()

    assert run(main) == ("ran", False)


def test_after_func_reset_schedules_the_call_again() -> None:
    def main() -> list[object]:
        out: Chan[int] = Chan()
        calls = iter(range(10))
        timer = gtime.after_func(0.01, lambda: out.send(next(calls)))
        first = out.recv()
        timer.reset(0.01)
        return [first, out.recv()]

    assert run(main) == [0, 1]


@pytest.mark.allow_goroutine_leaks
def test_exception_in_after_func_ends_the_run() -> None:
    def failing() -> None:
        raise ValueError("from after_func")

    def main() -> None:
        gtime.after_func(0.01, failing)
        gtime.sleep(5)

    start = time.monotonic()
    with pytest.raises(ValueError, match="from after_func"):
        run(main)
    assert time.monotonic() - start < 4


def test_after_func_with_a_non_callable_raises_type_error() -> None:
    with pytest.raises(TypeError):
        gtime.after_func(0.01, 42)  # type: ignore[arg-type]


# ---- plain threads ----------------------------------------------------------------------


def test_timers_work_in_plain_threads_outside_run() -> None:
    start = time.monotonic()
    value = gtime.after(0.03).recv()
    assert isinstance(value, float)
    assert time.monotonic() - start >= 0.03 - EARLY
    timer = gtime.Timer(0.02)
    assert timer.stop() is True
    gtime.sleep(0.05)
    assert nothing_ready(timer.c)


def test_plain_thread_timer_wakes_a_goroutine(start_thread) -> None:
    def thread(out: Chan[str]) -> None:
        gtime.after(0.02).recv()
        out.send("thread timer fired")

    def main() -> object:
        out: Chan[str] = Chan()
        start_thread(thread, out)
        return recv_within(out)

    assert run(main) == "thread timer fired"


# ---- now, since, constants --------------------------------------------------------------


def test_now_reads_the_monotonic_clock() -> None:
    before = time.monotonic()
    now = gtime.now()
    after = time.monotonic()
    assert before <= now <= after


def test_now_never_goes_backwards() -> None:
    readings = [gtime.now() for _ in range(1000)]
    assert readings == sorted(readings)


def test_since_measures_elapsed_time() -> None:
    def main() -> float:
        start = gtime.now()
        gtime.sleep(0.05)
        return gtime.since(start)

    assert 0.05 - EARLY <= run(main) <= SLACK


def test_duration_constants_are_in_seconds() -> None:
    assert gtime.Nanosecond == pytest.approx(1e-9, rel=1e-12)
    assert gtime.Microsecond == pytest.approx(1e-6, rel=1e-12)
    assert gtime.Millisecond == pytest.approx(1e-3, rel=1e-12)
    assert gtime.Second == 1
    assert gtime.Minute == 60
    assert gtime.Hour == 3600
    assert 1000 * gtime.Millisecond == pytest.approx(gtime.Second)


def test_constants_compose_durations() -> None:
    def main() -> float:
        start = time.monotonic()
        gtime.sleep(30 * gtime.Millisecond)
        return time.monotonic() - start

    assert 0.03 - EARLY <= run(main) <= SLACK


def test_pending_timers_do_not_delay_the_end_of_a_run() -> None:
    # A timer left pending when main returns must not keep run from returning.
    def main() -> str:
        gtime.Timer(30.0)
        gtime.after(30.0)
        runtime.gosched()
        return "returned"

    start = time.monotonic()
    assert run(main) == "returned"
    assert time.monotonic() - start < 5
