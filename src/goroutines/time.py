"""``goroutines.time``: sleeping, timers and tickers, as Go's ``time`` package.

Durations are float seconds; a ``datetime.timedelta`` is accepted wherever a
duration is. Times are on the ``now()`` clock: ``time.monotonic``, except in a
run of ``goroutines.testing.synctest``, whose clock is fake.

Timer and ticker channels follow Go 1.23: they behave as unbuffered channels
(``len`` and ``cap`` are 0), so after ``stop()`` or ``reset()`` returns, no value
prepared before the call can be received. Timers fire on a worker's scheduler
loop; a sleeping goroutine costs no thread.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ._chan import Chan, RecvChan, nilchan
from ._runtime import current, go, gosched, hooks, in_goroutine, start_timer, stop_timer
from ._runtime import now as _now
from ._runtime.timers import Timer as _RuntimeTimer

__all__ = [
    "Hour",
    "Microsecond",
    "Millisecond",
    "Minute",
    "Nanosecond",
    "Second",
    "Ticker",
    "Timer",
    "after",
    "after_func",
    "now",
    "since",
    "sleep",
    "tick",
]

Nanosecond = 1e-9
Microsecond = 1e-6
Millisecond = 1e-3
Second = 1.0
Minute = 60.0
Hour = 3600.0

# The real ``time.sleep``, kept before ``goroutines.patch()`` can replace it.
_thread_sleep = _time.sleep

# The current time in seconds on a monotonic clock: ``time.monotonic``, or in a
# ``goroutines.testing.synctest`` run that run's fake clock.
now = _now


def since(t: float) -> float:
    """Seconds elapsed since ``t`` (a value of ``now()``)."""
    return now() - t


def seconds(duration: float | timedelta) -> float:
    """A duration in seconds; raises TypeError for anything but a number or timedelta."""
    if isinstance(duration, timedelta):
        return duration.total_seconds()
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        return float(duration)
    raise TypeError(
        f"a duration must be float seconds or a timedelta, not {type(duration).__name__}"
    )


def sleep(duration: float | timedelta) -> None:
    """Pause the calling goroutine for ``duration``; it costs no thread.
    ``sleep(0)`` (or less) yields to the other runnable goroutines, as
    ``runtime.gosched()`` does.

    From a plain thread, sleeps that thread."""
    delay = seconds(duration)
    if not in_goroutine():
        _thread_sleep(max(delay, 0.0))
        return
    if delay <= 0:
        gosched()
        return
    me = current()
    start_timer(delay, _wake, me)
    me.park("sleep")


def _wake(waiter: Any, now: float) -> None:
    waiter.make_ready()


class _TimerChan(Chan[float]):
    """The channel of a Timer or Ticker: one slot inside, but it behaves as an
    unbuffered channel (``len``/``cap`` are 0, and ``stop``/``reset`` empty it)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(1)

    def __len__(self) -> int:
        return 0

    @property
    def cap(self) -> int:
        return 0

    def offer(self, value: float) -> None:
        """Send ``value`` if a receiver waits or the slot is free; else drop it."""
        with self._lock:
            self._try_send(value)

    def drain(self) -> bool:
        """Drop a value not yet received; True if there was one."""
        with self._lock:
            had_value = bool(self._buf)
            self._buf.clear()
            return had_value


class Timer:
    """A single event: after ``duration`` the current time is sent on ``c``
    (or, for ``after_func``, ``f`` is started in its own goroutine)."""

    def __init__(self, duration: float | timedelta, *, _func: Callable[[], Any] | None = None):
        self._func = _func
        self._chan = _TimerChan()
        self.c: RecvChan[float] = nilchan if _func is not None else self._chan.recv_only()
        self._lock = threading.Lock()
        self._generation = 0
        self._timer: _RuntimeTimer = self._arm(seconds(duration))

    def stop(self) -> bool:
        """Prevent the timer from firing. True if this call stopped it, False if
        it had already fired (its value received, or its function started) or
        been stopped. No stale value can be received afterwards."""
        with self._lock:
            return self._disarm()

    def reset(self, duration: float | timedelta) -> bool:
        """Make the timer fire after ``duration``. Returns whether it had been active."""
        delay = seconds(duration)
        with self._lock:
            active = self._disarm()
            self._timer = self._arm(delay)
            return active

    def _arm(self, delay: float) -> _RuntimeTimer:
        self._generation += 1
        if self._func is not None and hooks.race is not None:
            hooks.race.release(self)  # after_func (or reset) happens before f starts
        return start_timer(delay, self._fire, self._generation)

    def _disarm(self) -> bool:
        self._generation += 1
        active = stop_timer(self._timer)
        return self._chan.drain() or active

    def _fire(self, generation: int, now: float) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if self._func is not None:
                if hooks.race is not None:
                    hooks.race.acquire(self)  # f's goroutine starts with this clock
                go(self._func)
            else:
                self._chan.offer(now)


class Ticker:
    """Sends the current time on ``c`` every ``duration``; a slow receiver
    misses ticks rather than receiving a backlog (as Go's ticker drops them)."""

    def __init__(self, duration: float | timedelta) -> None:
        self._period = _positive_period(duration)
        self._chan = _TimerChan()
        self.c: RecvChan[float] = self._chan.recv_only()
        self._lock = threading.Lock()
        self._generation = 0
        self._timer: _RuntimeTimer = self._arm(self._period)

    def stop(self) -> None:
        """Turn the ticker off; no tick can be received afterwards."""
        with self._lock:
            self._generation += 1
            stop_timer(self._timer)
            self._chan.drain()

    def reset(self, duration: float | timedelta) -> None:
        """Stop the ticker and restart it with period ``duration``."""
        period = _positive_period(duration)
        with self._lock:
            self._generation += 1
            stop_timer(self._timer)
            self._chan.drain()
            self._period = period
            self._timer = self._arm(period)

    def _arm(self, delay: float) -> _RuntimeTimer:
        self._generation += 1
        return start_timer(delay, self._fire, self._generation)

    def _fire(self, generation: int, now: float) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._chan.offer(now)
            late = (now - self._timer.when) % self._period
            self._timer = self._arm(self._period - late)


def _positive_period(duration: float | timedelta) -> float:
    period = seconds(duration)
    if period <= 0:
        raise ValueError("non-positive interval for Ticker")
    return period


def after(duration: float | timedelta) -> RecvChan[float]:
    """A channel that receives the current time after ``duration``."""
    return Timer(duration).c


def tick(duration: float | timedelta) -> RecvChan[float]:
    """A ticker's channel, for callers that never stop it; ``nilchan`` if
    ``duration`` <= 0 (as Go's ``time.Tick`` returns nil)."""
    if seconds(duration) <= 0:
        return nilchan
    return Ticker(duration).c


def after_func(duration: float | timedelta, f: Callable[[], Any]) -> Timer:
    """Start ``f()`` in its own goroutine after ``duration``. ``stop`` prevents it."""
    if not callable(f):
        raise TypeError(f"after_func: f must be callable, not {type(f).__name__}")
    return Timer(duration, _func=f)
