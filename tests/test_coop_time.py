"""Cooperative ``time.sleep`` after ``goroutines.patch()``."""

from __future__ import annotations

import time

import pytest
from conftest import PATIENCE

import goroutines
from goroutines import run, sync

goroutines.patch()


@pytest.mark.timeout(60)
def test_a_thousand_goroutines_sleep_at_once_on_one_worker() -> None:
    def main() -> float:
        start = time.monotonic()
        group = sync.WaitGroup()
        for _ in range(1000):
            group.go(time.sleep, 0.2)
        group.wait()
        return time.monotonic() - start

    elapsed = run(main, gomaxprocs=1)
    assert 0.2 <= elapsed < 2.0  # 1,000 sequential sleeps would take 200 s


@pytest.mark.allow_goroutine_leaks  # the dumped goroutine is left asleep
def test_sleep_shows_as_sleep_in_the_dump() -> None:
    def main() -> str:
        goroutines.go(time.sleep, PATIENCE)
        time.sleep(0.01)
        return goroutines.runtime.stack()

    assert "[sleep]:" in run(main)


def test_sleep_rejects_what_the_stdlib_rejects_in_a_goroutine() -> None:
    def main() -> None:
        with pytest.raises(ValueError, match="non-negative"):
            time.sleep(-1)
        with pytest.raises(TypeError):
            time.sleep("1")  # type: ignore[arg-type]
        time.sleep(0)

    run(main)


def test_sleep_zero_yields_to_other_goroutines() -> None:
    def main() -> list[str]:
        events: list[str] = []
        goroutines.go(events.append, "other ran")
        time.sleep(0)
        events.append("main resumed")
        return events

    assert run(main, gomaxprocs=1) == ["other ran", "main resumed"]


def test_a_plain_thread_sleeps_as_before() -> None:
    start = time.monotonic()
    time.sleep(0.02)
    assert time.monotonic() - start >= 0.02
    with pytest.raises(ValueError):
        time.sleep(-1)
