"""Stress: thousands of goroutines over many channels, under 1 and 2 processors.

Each test accounts for every value (sent exactly once, received exactly once)
and is bounded to a few seconds.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest
from conftest import recv_within

import goroutines.time as gtime
from goroutines import Chan, ClosedChannelError, default, go, run, runtime, select
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(60)

PROCS = [1, 2]


@pytest.mark.parametrize("procs", PROCS)
def test_random_selects_deliver_every_value_exactly_once(procs: int) -> None:
    # 1,500 producers send 4 values each through selects over random subsets
    # of 8 channels (sometimes with default, then retrying); 500 consumers
    # select over every channel that is still open. When all producers are
    # done, main closes the channels; each consumer drains until every channel
    # it reads is closed, and hands in what it received.
    n_channels, n_producers, per_producer, n_consumers = 8, 1500, 4, 500

    def producer(p: int, chans: list[Chan[tuple[int, int]]], done: Chan[int]) -> None:
        rng = random.Random(p)
        for i in range(per_producer):
            value = (p, i)
            while True:
                picked = rng.sample(chans, rng.randint(1, 4))
                cases: list[Any] = [(ch.send, value) for ch in picked]
                if rng.random() < 0.25:
                    cases.append(default)
                index, _ = select(*cases)
                if index < len(picked):
                    break
                runtime.gosched()
        done.send(p)

    def consumer(chans: list[Chan[tuple[int, int]]], results: Chan[Counter[Any]]) -> None:
        received: Counter[Any] = Counter()
        live = list(chans)
        while live:
            index, (value, ok) = select(*[ch.recv_ok for ch in live])
            if ok:
                received[value] += 1
            else:
                del live[index]
        results.send(received)

    def main() -> Counter[Any]:
        chans: list[Chan[tuple[int, int]]] = [Chan([0, 1, 4][k % 3]) for k in range(n_channels)]
        done: Chan[int] = Chan()
        results: Chan[Counter[Any]] = Chan()
        for _ in range(n_consumers):
            go(consumer, chans, results)
        for p in range(n_producers):
            go(producer, p, chans, done)
        finished = {done.recv() for _ in range(n_producers)}
        assert finished == set(range(n_producers))
        for ch in chans:
            ch.close()
        total: Counter[Any] = Counter()
        for _ in range(n_consumers):
            total += results.recv()
        verify_none()  # the goroutines it started have finished
        return total

    start = time.monotonic()
    total = run(main, gomaxprocs=procs)
    assert total == Counter((p, i) for p in range(n_producers) for i in range(per_producer))
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("procs", PROCS)
def test_peers_exchange_through_mixed_send_and_receive_selects(procs: int) -> None:
    # 1,000 peers each give away 5 values through selects that offer the value
    # on every one of 6 unbuffered channels and, in the same select, receive
    # from all of them; what a peer receives it keeps and reports when it has
    # given everything away. Main also receives from every channel (so the
    # last giver always finds a taker) until all peers reported. Each value
    # ends up exactly once with a peer or with main.
    n_peers, per_peer, n_channels = 1000, 5, 6

    def peer(k: int, chans: list[Chan[tuple[int, int]]], report: Chan[list[Any]]) -> None:
        rng = random.Random(k)
        to_give = [(k, i) for i in range(per_peer)]
        kept: list[Any] = []
        while to_give:
            order = rng.sample(chans, len(chans))
            cases: list[Any] = [(ch.send, to_give[-1]) for ch in order]
            cases += [ch.recv for ch in order]
            index, value = select(*cases)
            if index < len(order):
                to_give.pop()
            else:
                kept.append(value)
        report.send(kept)

    def main() -> Counter[Any]:
        chans: list[Chan[tuple[int, int]]] = [Chan() for _ in range(n_channels)]
        report: Chan[list[Any]] = Chan()
        for k in range(n_peers):
            go(peer, k, chans, report)
        total: Counter[Any] = Counter()
        reports = 0
        while reports < n_peers:
            index, value = select(report.recv, *[ch.recv for ch in chans])
            if index == 0:
                reports += 1
                total.update(value)
            else:
                total[value] += 1
        verify_none()  # the goroutines it started have finished
        return total

    total = run(main, gomaxprocs=procs)
    assert total == Counter((k, i) for k in range(n_peers) for i in range(per_peer))


@pytest.mark.parametrize("procs", PROCS)
def test_many_goroutines_with_timeouts_and_sleeps(procs: int) -> None:
    # 2,000 goroutines sleep a random few milliseconds, then wait for a value
    # with a timeout; half of them get one. Every goroutine reports once. (The
    # timeout is long enough that no goroutine can see it fire before its
    # select polled the values channel.)
    n = 2000

    def worker(k: int, values: Chan[int], report: Chan[tuple[int, str]]) -> None:
        rng = random.Random(k)
        gtime.sleep(rng.random() * 0.02)
        index, _ = select(values.recv, gtime.after(0.3).recv)
        report.send((k, "value" if index == 0 else "timeout"))

    def main() -> Counter[Any]:
        values: Chan[int] = Chan(n // 2)
        for i in range(n // 2):
            values.send(i)
        report: Chan[tuple[int, str]] = Chan()
        for k in range(n):
            go(worker, k, values, report)
        seen = [report.recv() for _ in range(n)]
        assert sorted(k for k, _ in seen) == list(range(n))
        returned = Counter(outcome for _, outcome in seen)
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == Counter({"value": n // 2, "timeout": n // 2})


@pytest.mark.parametrize("procs", PROCS)
def test_tens_of_thousands_of_short_goroutines(procs: int) -> None:
    n = 20_000

    def main() -> tuple[int, int]:
        results: Chan[int] = Chan(128)

        def square(i: int) -> None:
            results.send(i * i)

        def spawner() -> None:
            for i in range(n):
                go(square, i)

        go(spawner)
        total = sum(results.recv() for _ in range(n))  # type: ignore[misc]
        deadline = time.monotonic() + 10
        while runtime.num_goroutine() > 1 and time.monotonic() < deadline:
            gtime.sleep(0.001)
        returned = total, runtime.num_goroutine()
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == (sum(i * i for i in range(n)), 1)


@pytest.mark.parametrize("procs", PROCS)
def test_plain_threads_and_goroutines_under_random_selects(procs: int, start_thread) -> None:
    # 4 plain threads and 200 goroutines send through random selects over 4
    # channels; 50 goroutines and 2 threads receive. Every value arrives once.
    n_channels, per_sender = 4, 100
    thread_senders, goroutine_senders = 4, 200
    thread_receivers, goroutine_receivers = 2, 50

    def sender(name: Any, chans: list[Chan[Any]], done: Chan[Any]) -> None:
        rng = random.Random(str(name))
        for i in range(per_sender):
            select(*[(ch.send, (name, i)) for ch in rng.sample(chans, 2)])
        done.send(name)

    def receiver(chans: list[Chan[Any]], results: Chan[Counter[Any]]) -> None:
        received: Counter[Any] = Counter()
        live = list(chans)
        while live:
            index, (value, ok) = select(*[ch.recv_ok for ch in live])
            if ok:
                received[value] += 1
            else:
                del live[index]
        results.send(received)

    def main() -> Counter[Any]:
        chans: list[Chan[Any]] = [Chan(k % 2) for k in range(n_channels)]
        done: Chan[Any] = Chan()
        results: Chan[Counter[Any]] = Chan()
        for t in range(thread_senders):
            start_thread(sender, ("thread", t), chans, done)
        for _ in range(thread_receivers):
            start_thread(receiver, chans, results)
        for g in range(goroutine_senders):
            go(sender, ("goroutine", g), chans, done)
        for _ in range(goroutine_receivers):
            go(receiver, chans, results)
        for _ in range(thread_senders + goroutine_senders):
            recv_within(done, 30)
        for ch in chans:
            ch.close()
        total: Counter[Any] = Counter()
        for _ in range(thread_receivers + goroutine_receivers):
            total += recv_within(results, 30)
        verify_none()  # the goroutines it started have finished
        return total

    expected = Counter(
        [(("thread", t), i) for t in range(thread_senders) for i in range(per_sender)]
        + [(("goroutine", g), i) for g in range(goroutine_senders) for i in range(per_sender)]
    )
    assert run(main, gomaxprocs=procs) == expected


@pytest.mark.parametrize("procs", PROCS)
def test_close_storm_wakes_every_waiter_exactly_once(procs: int) -> None:
    # 100 channels, each with 10 blocked receivers, 5 blocked senders and 5
    # blocked selects, closed all at once from 4 goroutines.
    n_channels = 100

    def main() -> Counter[Any]:
        chans: list[Chan[int]] = [Chan() for _ in range(n_channels)]
        outcomes: Chan[str] = Chan(n_channels * 20)

        def receive(ch: Chan[int]) -> None:
            outcomes.send("recv closed" if ch.recv_ok() == (None, False) else "recv got value")

        def send(ch: Chan[int]) -> None:
            try:
                ch.send(1)
            except ClosedChannelError:
                outcomes.send("send raised")
            else:
                outcomes.send("send delivered")

        def select_send(ch: Chan[int]) -> None:
            try:
                select((ch.send, 1), Chan().recv)
            except ClosedChannelError:
                outcomes.send("select raised")
            else:
                outcomes.send("select delivered")

        for ch in chans:
            for _ in range(10):
                go(receive, ch)
            for _ in range(5):
                go(send, ch)
                go(select_send, ch)

        def closer(part: list[Chan[int]]) -> None:
            for ch in part:
                ch.close()

        runtime.gosched()
        for k in range(4):
            go(closer, chans[k::4])
        returned = Counter(outcomes.recv() for _ in range(n_channels * 20))
        verify_none()  # the goroutines it started have finished
        return returned

    outcomes = run(main, gomaxprocs=procs)
    assert sum(outcomes.values()) == n_channels * 20
    # Every delivered value was received by exactly one receiver.
    delivered = outcomes["send delivered"] + outcomes["select delivered"]
    assert outcomes["recv got value"] == delivered
    assert outcomes["recv got value"] + outcomes["recv closed"] == n_channels * 10
    assert set(outcomes) <= {
        "recv closed",
        "recv got value",
        "send raised",
        "send delivered",
        "select raised",
        "select delivered",
    }
