"""Seeded scheduling: ``synctest.run(main, seed=n)`` replays an interleaving."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goroutines import Chan, go, runtime, select, sync
from goroutines import time as gtime
from goroutines.testing import synctest


def interleaving() -> list[str]:
    """A program with many scheduling choices: goroutines that start,
    block, sleep, lock and select; returns the order of what they did."""
    events: list[str] = []
    mu = sync.Mutex()
    wg = sync.WaitGroup()
    left: Chan[int] = Chan(2)
    right: Chan[int] = Chan(2)

    def worker(name: str, naps: int) -> None:
        for step in range(3):
            with mu:
                events.append(f"{name}{step}")
            if step == naps:
                gtime.sleep(0.25)
            index, _ = select((left.send, step), (right.send, step))
            events.append(f"{name}>{'LR'[index]}")
            runtime.gosched()
        wg.done()

    def drain(ch: Chan[int], name: str) -> None:
        for value in ch:
            events.append(f"{name}{value}")

    wg.add(4)
    for number, name in enumerate("abcd"):
        go(worker, name, number % 3)
    go(drain, left, "L")
    go(drain, right, "R")
    wg.wait()
    left.close()
    right.close()
    gtime.sleep(1)  # the drains finish first: everything else is blocked
    return events


def test_the_same_seed_gives_the_same_interleaving() -> None:
    runs = {seed: synctest.run(interleaving, seed=seed) for seed in range(8)}
    for seed, events in runs.items():
        assert synctest.run(interleaving, seed=seed) == events, f"seed {seed}"
    assert len({tuple(events) for events in runs.values()}) > 1, "every seed gave one order"


def test_select_choices_follow_the_seed() -> None:
    def choices() -> list[int]:
        a, b, c = Chan(1), Chan(1), Chan(1)
        picked = []
        for _ in range(20):
            for ch in (a, b, c):
                if len(ch) == 0:
                    ch.send(None)
            picked.append(select(a.recv, b.recv, c.recv)[0])
        return picked

    first = synctest.run(choices, seed=42)
    assert synctest.run(choices, seed=42) == first
    assert set(first) == {0, 1, 2}
    assert synctest.run(choices, seed=43) != first


def check_then_act() -> bool:
    """Go first-in first-out and the consumer always sees False; some seeds
    run the producer first."""
    ready = [False]
    seen: Chan[bool] = Chan(1)
    wg = sync.WaitGroup()
    wg.add(2)
    go(lambda: (seen.send(ready[0]), wg.done()))
    go(lambda: (ready.__setitem__(0, True), wg.done()))
    wg.wait()
    return seen.recv()


def test_a_race_shows_under_some_seeds_and_each_seed_replays_it() -> None:
    outcomes = {seed: synctest.run(check_then_act, seed=seed) for seed in range(40)}
    assert set(outcomes.values()) == {False, True}
    for seed, outcome in outcomes.items():
        assert synctest.run(check_then_act, seed=seed) is outcome


def test_a_failure_names_its_seed() -> None:
    def main() -> None:
        assert check_then_act() is False

    failing = next(seed for seed in range(40) if synctest.run(check_then_act, seed=seed) is True)
    with pytest.raises(AssertionError) as caught:
        synctest.run(main, seed=failing)
    assert caught.value.__notes__[-1] == (
        f"scheduling seed {failing}: pass seed={failing} to replay this interleaving"
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**64))
def test_hypothesis_can_pick_the_seeds(seed: int) -> None:
    """A property over interleavings: hypothesis draws (and on failure,
    shrinks and prints) the seed."""

    def main() -> int:
        counter = [0]
        mu = sync.Mutex()
        wg = sync.WaitGroup()

        def add() -> None:
            for _ in range(5):
                with mu:
                    value = counter[0]
                    runtime.gosched()
                    counter[0] = value + 1
            wg.done()

        wg.add(4)
        for _ in range(4):
            go(add)
        wg.wait()
        return counter[0]

    assert synctest.run(main, seed=seed) == 20


def test_a_seeded_run_keeps_one_worker() -> None:
    with pytest.raises(ValueError, match="exactly one worker, not gomaxprocs=2"):
        synctest.run(lambda: None, seed=1, gomaxprocs=2)
    assert synctest.run(runtime.gomaxprocs, seed=1) == 1

    def main() -> None:
        runtime.gomaxprocs(2)

    with pytest.raises(RuntimeError, match="a seeded run has exactly one worker"):
        synctest.run(main, seed=1)


@pytest.mark.parametrize("seed", ["1", 1.5, True])
def test_the_seed_must_be_an_int(seed: object) -> None:
    with pytest.raises(TypeError, match="seed must be an int"):
        synctest.run(lambda: None, seed=seed)  # type: ignore[arg-type]
