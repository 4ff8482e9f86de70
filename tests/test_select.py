"""``select``: API.md's case table, randomness, blocking, bad input, and the
meaning of Go's select tests (``test/chan/select*.go``, ``doubleselect.go`` and
``runtime/chan_test.go``)."""

from __future__ import annotations

import gc
import itertools
import queue
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Interrupted, Peer, recv_within, wait_until_blocked

import goroutines.time as gtime
from goroutines import (
    Chan,
    ClosedChannelError,
    DeadlockError,
    default,
    go,
    nilchan,
    run,
    runtime,
    select,
)
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(30)


def full(value: object = "v", capacity: int = 1) -> Chan[object]:
    """A buffered channel holding ``value``: its receive case is ready."""
    ch: Chan[object] = Chan(capacity)
    ch.send(value)
    return ch


def closed() -> Chan[object]:
    ch: Chan[object] = Chan()
    ch.close()
    return ch


# ---- the case table --------------------------------------------------------------------


def test_recv_case_returns_its_index_and_the_value() -> None:
    def main() -> tuple[int, Any]:
        return select(Chan().recv, full("x").recv)

    assert run(main) == (1, "x")


def test_recv_ok_case_returns_the_value_and_ok() -> None:
    def main() -> list[tuple[int, Any]]:
        return [select(Chan().recv, full(None).recv_ok), select(closed().recv_ok)]

    assert run(main) == [(1, (None, True)), (0, (None, False))]


def test_recv_case_on_a_closed_channel_returns_none() -> None:
    def main() -> tuple[int, Any]:
        return select(Chan().recv, closed().recv)

    assert run(main) == (1, None)


def test_send_case_returns_none_and_delivers_the_value() -> None:
    def main() -> tuple[tuple[int, Any], object]:
        ch: Chan[str] = Chan(1)
        result = select(Chan().recv, (ch.send, "sent"))
        return result, ch.recv()

    assert run(main) == ((1, None), "sent")


@pytest.mark.parametrize("position", [0, 1, 2])
def test_default_is_taken_at_its_position_when_nothing_is_ready(position: int) -> None:
    def main() -> tuple[int, Any]:
        cases: list[Any] = [Chan().recv, (Chan().send, 1)]
        cases.insert(position, default)
        return select(*cases)

    assert run(main) == (position, None)


def test_default_alone_is_taken() -> None:
    assert run(select, default) == (0, None)


def test_ready_case_wins_over_default() -> None:
    def main() -> Counter[int]:
        counts: Counter[int] = Counter()
        for _ in range(200):
            counts[select(default, full().recv)[0]] += 1
        return counts

    assert run(main) == Counter({1: 200})


def test_select_with_default_never_blocks() -> None:
    def main() -> list[tuple[int, Any]]:
        unbuffered: Chan[int] = Chan()
        full_buffer = full()
        return [
            select(unbuffered.recv, default),
            select((unbuffered.send, 1), default),
            select((full_buffer.send, 2), default),
            select(nilchan.recv, nilchan.recv_ok, (nilchan.send, 1), default),
        ]

    assert run(main) == [(1, None), (1, None), (1, None), (3, None)]


# ---- blocking --------------------------------------------------------------------------


@pytest.mark.allow_goroutine_leaks
def test_select_with_no_cases_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(select)


@pytest.mark.allow_goroutine_leaks
def test_select_with_only_nil_channel_cases_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(select, nilchan.recv, (nilchan.send, 7), nilchan.recv_ok)


@pytest.mark.allow_goroutine_leaks
def test_select_with_no_ready_case_and_no_default_blocks() -> None:
    def main() -> None:
        select(Chan().recv, (Chan().send, 1), (full().send, 2))

    with pytest.raises(DeadlockError):
        run(main)


@pytest.mark.allow_goroutine_leaks
def test_select_does_not_pair_its_own_send_and_receive() -> None:
    # select3.go: "select should not get confused if it sees itself".
    def main() -> None:
        ch: Chan[int] = Chan()
        select((ch.send, 1), ch.recv)

    with pytest.raises(DeadlockError):
        run(main)


def test_blocked_select_proceeds_when_a_case_becomes_ready() -> None:
    def main() -> tuple[int, Any]:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        result: Chan[tuple[int, Any]] = Chan()
        go(lambda: result.send(select(a.recv, b.recv)))
        wait_until_blocked(1, "select")
        b.send("to b")
        selected = result.recv()
        verify_none()  # the goroutines it started have finished
        return selected

    assert run(main) == (1, "to b")


def test_blocked_select_send_case_proceeds_when_a_receiver_comes() -> None:
    def main() -> tuple[object, tuple[int, Any]]:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        result: Chan[tuple[int, Any]] = Chan()
        go(lambda: result.send(select(a.recv, (b.send, "from select"))))
        wait_until_blocked(1, "select")
        returned = b.recv(), result.recv()
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == ("from select", (1, None))


def test_cases_that_lost_leave_nothing_behind() -> None:
    # After a blocked select returned through one case, its other cases must
    # not take anything from their channels any more.
    def main() -> list[object]:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        c: Chan[str] = Chan()
        result: Chan[tuple[int, Any]] = Chan()
        go(lambda: result.send(select(a.recv, (b.send, "stale"), c.recv)))
        wait_until_blocked(1, "select")
        c.send("winner")
        outcome = result.recv()
        return [outcome, select((a.send, "x"), default), select(b.recv, default)]

    assert run(main) == [(2, "winner"), (1, None), (1, None)]


def test_blocked_select_recv_cases_see_close() -> None:
    def main() -> list[tuple[int, Any]]:
        ch: Chan[int] = Chan()
        results: Chan[tuple[int, Any]] = Chan(2)
        go(lambda: results.send(select(Chan().recv, ch.recv)))
        go(lambda: results.send(select(Chan().recv, ch.recv_ok)))
        wait_until_blocked(2, "select")
        ch.close()
        return sorted([results.recv(), results.recv()], key=repr)

    assert run(main) == [(1, (None, False)), (1, None)]


def test_blocked_select_send_case_raises_when_the_channel_is_closed() -> None:
    def main() -> str:
        ch: Chan[int] = Chan()
        result: Chan[str] = Chan()

        def sender() -> None:
            try:
                select(Chan().recv, (ch.send, 1))
            except ClosedChannelError as exc:
                result.send(str(exc))

        go(sender)
        wait_until_blocked(1, "select")
        ch.close()
        message = result.recv()
        verify_none()  # the goroutines it started have finished
        return message

    assert run(main) == "send on closed channel"


def test_blocked_selects_and_receivers_are_served_first_come_first_served() -> None:
    def main() -> list[tuple[str, Any]]:
        ch: Chan[int] = Chan()
        results: Chan[tuple[str, Any]] = Chan(3)
        go(lambda: results.send(("select 1", select(Chan().recv, ch.recv))))
        wait_until_blocked(1, "select")
        go(lambda: results.send(("recv", ch.recv())))
        wait_until_blocked(1, "chan receive")
        go(lambda: results.send(("select 2", select(ch.recv, Chan().recv))))
        wait_until_blocked(2, "select")
        for value in range(3):
            ch.send(value)
        return sorted(results.recv() for _ in range(3))

    assert run(main) == [("recv", 1), ("select 1", (1, 0)), ("select 2", (0, 2))]


# ---- closed channels in select ---------------------------------------------------------


def test_send_case_on_a_closed_channel_raises_even_with_default() -> None:
    def main() -> None:
        with pytest.raises(ClosedChannelError, match=r"^send on closed channel$"):
            select((closed().send, 1), default)

    run(main)


def test_send_case_on_a_closed_channel_counts_as_ready() -> None:
    # Both ready cases must be chosen sometimes: raising, or receiving. Each of
    # 200 trials picks either with probability 1/2 if select is uniform, so a
    # correct select fails this test with probability 2 * 2**-200.
    def main() -> Counter[str]:
        shut = closed()
        ready: Chan[int] = Chan(1)
        outcomes: Counter[str] = Counter()
        for _ in range(200):
            if len(ready) == 0:
                ready.send(1)
            try:
                index, _ = select((shut.send, 1), ready.recv)
            except ClosedChannelError:
                outcomes["raised"] += 1
            else:
                outcomes[f"case {index}"] += 1
        return outcomes

    outcomes = run(main)
    assert set(outcomes) == {"raised", "case 1"}
    assert sum(outcomes.values()) == 200


def test_recv_cases_on_closed_channels_never_block() -> None:
    # select3.go: selects with closed channels behave like ordinary operations.
    def main() -> list[tuple[int, Any]]:
        shut = closed()
        return [select(shut.recv), select(shut.recv_ok), select(shut.recv, default)]

    assert run(main) == [(0, None), (0, (None, False)), (0, None)]


# ---- nil channels, views, duplicates ---------------------------------------------------


def test_nil_channel_cases_are_never_chosen() -> None:
    def main() -> Counter[int]:
        counts: Counter[int] = Counter()
        for _ in range(100):
            ready = full()
            index, value = select(nilchan.recv, (nilchan.send, 1), ready.recv, nilchan.recv_ok)
            assert value == "v"
            counts[index] += 1
        return counts

    assert run(main) == Counter({2: 100})


def test_disabling_sent_cases_with_nilchan_sends_each_once() -> None:
    # Go's select.go: a loop that replaces a channel by nil once it was sent
    # on sends exactly once on each channel, then takes default.
    def send_all(a: Chan[int], b: Chan[int]) -> int:
        sends = 0
        shift = 0
        while True:
            index, _ = select((a.send, 1 << shift), (b.send, 1 << shift), default)
            if index == 2:
                return sends
            sends += 1
            if index == 0:
                a = nilchan
            else:
                b = nilchan
            shift += 1

    def main() -> tuple[int, int, int]:
        a: Chan[int] = Chan(1)
        b: Chan[int] = Chan(1)
        both = send_all(a, b)
        values = a.recv() | b.recv()
        return both, values, send_all(a, nilchan)

    assert run(main) == (2, 3, 1)


def test_send_and_recv_views_are_accepted() -> None:
    def main() -> list[Any]:
        ch: Chan[str] = Chan(1)
        sent = select((ch.send_only().send, "through a view"))
        received = select(ch.recv_only().recv)
        ch.send("again")
        received_ok = select(Chan().recv, ch.recv_only().recv_ok)
        return [sent, received, received_ok]

    assert run(main) == [(0, None), (0, "through a view"), (1, ("again", True))]


def test_same_channel_in_several_cases() -> None:
    # Either case may take the value; over 200 trials both must be chosen
    # (a uniform select fails this with probability 2 * 2**-200).
    def main() -> Counter[int]:
        counts: Counter[int] = Counter()
        ch: Chan[int] = Chan(1)
        for i in range(200):
            ch.send(i)
            index, value = select(ch.recv, ch.recv)
            assert value == i
            assert len(ch) == 0  # exactly one value was taken
            counts[index] += 1
        return counts

    assert set(run(main)) == {0, 1}


@pytest.mark.parametrize("wake", ["send", "close"])
def test_blocked_select_on_the_same_channel_twice_wakes_either_case(wake: str) -> None:
    # Cases that become ready at once are chosen at random, also when the
    # select was blocked. Over 100 trials both cases must be chosen (a uniform
    # choice fails this with probability 2 * 2**-100).
    def main() -> Counter[int]:
        counts: Counter[int] = Counter()
        results: Chan[tuple[int, Any]] = Chan()
        for _ in range(100):
            ch: Chan[int] = Chan()
            go(lambda ch=ch: results.send(select(ch.recv, ch.recv)))
            wait_until_blocked(1, "select")
            if wake == "send":
                ch.send(1)
            else:
                ch.close()
            counts[results.recv()[0]] += 1
        verify_none()  # the goroutines it started have finished
        return counts

    assert set(run(main)) == {0, 1}


def test_duplicate_channel_in_a_blocked_select_keeps_its_queue_intact() -> None:
    # TestSelectDuplicateChannel: A waits on c twice and on d; B then waits on c.
    # Waking A through d must leave B correctly queued on c.
    def main() -> list[object]:
        c: Chan[int] = Chan()
        d: Chan[int] = Chan()
        e: Chan[object] = Chan()
        go(lambda: e.send(select(c.recv, c.recv, d.recv)))
        wait_until_blocked(1, "select")
        go(lambda: e.send(("B", c.recv())))
        wait_until_blocked(1, "chan receive")
        d.send(7)
        a_result = e.recv()
        c.send(8)
        b_result = e.recv()
        verify_none()  # the goroutines it started have finished
        return [a_result, b_result]

    assert run(main) == [(2, 7), ("B", 8)]


@pytest.mark.parametrize("capacity", [0, 10])
@pytest.mark.parametrize("procs", [1, 2])
def test_self_select_never_receives_its_own_send(capacity: int, procs: int) -> None:
    # TestSelfSelect: two goroutines select between sending and receiving on
    # the same channel; on an unbuffered channel none may receive its own value.
    def player(p: int, ch: Chan[int], done: Chan[int]) -> None:
        self_receives = 0
        for i in range(1000):
            if p == 0 or i % 2 == 0:
                index, value = select((ch.send, p), ch.recv)
                received = index == 1
            else:
                index, value = select(ch.recv, (ch.send, p))
                received = index == 0
            if received and capacity == 0 and value == p:
                self_receives += 1
        done.send(self_receives)

    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        done: Chan[int] = Chan()
        go(player, 0, ch, done)
        go(player, 1, ch, done)
        returned = [done.recv(), done.recv()]
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == [0, 0]


# ---- randomness ------------------------------------------------------------------------


def test_select_chooses_fairly_between_two_ready_cases() -> None:
    # TestSelectFairness: c1 and c2 always hold a value, c3 and c4 never do.
    # With n = 10,000 selects, the count X of c1 wins is Binomial(n, 1/2) for a
    # fair select. Hoeffding: P(|X - n/2| >= 0.05 n) <= 2 exp(-2 n 0.05^2)
    # = 2 exp(-50) ~ 3.9e-22, so the bounds 45%..55% below make a fair select
    # fail with probability below 1e-21 (well under the 1e-9 we allow).
    trials = 10_000

    def main() -> Counter[object]:
        c1: Chan[int] = Chan(trials + 1)
        c2: Chan[int] = Chan(trials + 1)
        for _ in range(trials + 1):
            c1.send(1)
            c2.send(2)
        c3: Chan[int] = Chan()
        c4: Chan[int] = Chan()
        counts: Counter[object] = Counter()
        for _ in range(trials):
            _, value = select(c3.recv, c4.recv, c1.recv, c2.recv)
            counts[value] += 1
        return counts

    counts = run(main)
    assert set(counts) == {1, 2}
    assert 0.45 * trials <= counts[1] <= 0.55 * trials, counts


def test_select_chooses_fairly_when_a_goroutine_forwards_its_choice() -> None:
    # The same bound, with the select in a goroutine that hands each choice to
    # main over an unbuffered channel (Go's exact shape of TestSelectFairness).
    trials = 10_000

    def chooser(c1: Chan[int], c2: Chan[int], out: Chan[object], done: Chan[None]) -> None:
        c3: Chan[int] = Chan()
        c4: Chan[int] = Chan()
        while True:
            _, value = select(c3.recv, c4.recv, c1.recv, c2.recv)
            index, _ = select((out.send, value), done.recv)
            if index == 1:
                return

    def main() -> Counter[object]:
        c1: Chan[int] = Chan(trials + 1)
        c2: Chan[int] = Chan(trials + 1)
        for _ in range(trials + 1):
            c1.send(1)
            c2.send(2)
        out: Chan[object] = Chan()
        done: Chan[None] = Chan()
        go(chooser, c1, c2, out, done)
        counts = Counter(out.recv() for _ in range(trials))
        done.close()
        verify_none()  # the goroutines it started have finished
        return counts

    counts = run(main)
    assert 0.45 * trials <= counts[1] <= 0.55 * trials, counts


@pytest.mark.parametrize("capacity", [0, 100])
def test_select_between_two_sends_of_different_values_is_random(capacity: int) -> None:
    # TestPseudoRandomSend: 100 selects, each sending 0 or 1 on one channel.
    # For a fair select the number of ones is Binomial(100, 1/2); requiring
    # more than 10 of each fails with probability 2 P(X <= 10) ~ 3e-17.
    n = 100

    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        received: Chan[list[object]] = Chan()

        def receiver() -> None:
            values = []
            for _ in range(n):
                runtime.gosched()
                values.append(ch.recv())
            received.send(values)

        go(receiver)
        for _ in range(n):
            select((ch.send, 1), (ch.send, 0))
        returned = received.recv()
        verify_none()  # the goroutines it started have finished
        return returned

    values = run(main)
    assert values.count(0) > n / 10
    assert values.count(1) > n / 10
    assert len(values) == n


# ---- timeouts --------------------------------------------------------------------------


def test_timeout_case_fires_when_nothing_else_is_ready() -> None:
    def main() -> tuple[int, Any, float, float]:
        start = gtime.now()
        index, value = select(Chan().recv, gtime.after(0.05).recv)
        return index, value, gtime.now() - start, start

    index, value, elapsed, start = run(main)
    assert index == 1
    assert isinstance(value, float)
    assert value >= start + 0.05 - 1e-3
    assert 0.045 <= elapsed <= 2.0


def test_timeout_case_is_not_taken_when_a_value_comes_first() -> None:
    def main() -> tuple[int, Any]:
        ch: Chan[str] = Chan()
        go(ch.send, "in time")
        chosen = select(ch.recv, gtime.after(10).recv)
        verify_none()  # the sender has finished
        return chosen

    assert run(main) == (0, "in time")


# ---- bad input -------------------------------------------------------------------------


class NotAChannel:
    def recv(self) -> None:
        return None

    def send(self, value: object) -> None:
        return None


BAD_CASES: dict[str, Any] = {
    "a string": "ch.recv",
    "an int": 42,
    "None": None,
    "the channel itself": "CHANNEL",
    "a bare send method": "SEND",
    "a close method": "CLOSE",
    "a one-tuple": ("SEND",),
    "a three-tuple": ("SEND", 1, 2),
    "an empty tuple": (),
    "a recv method in a send tuple": ("RECV", 1),
    "a list instead of a tuple": ["SEND", 1],
    "recv of a non-channel": NotAChannel().recv,
    "send of a non-channel": (NotAChannel().send, 1),
    "a queue's get method": queue.Queue().get,
    "a lambda": lambda: None,
}


def _materialize(case: Any, ch: Chan[int]) -> Any:
    names = {"CHANNEL": ch, "SEND": ch.send, "CLOSE": ch.close, "RECV": ch.recv}
    if isinstance(case, str):
        return names.get(case, case)
    if isinstance(case, (tuple, list)):
        return type(case)(names.get(c, c) if isinstance(c, str) else c for c in case)
    return case


@pytest.mark.parametrize("name", list(BAD_CASES))
def test_bad_case_raises_and_performs_nothing(name: str) -> None:
    def main() -> int:
        ch: Chan[int] = Chan(2)
        ch.send(1)
        bad = _materialize(BAD_CASES[name], ch)
        with pytest.raises((TypeError, ValueError)):
            select(ch.recv, bad)  # ch.recv is ready, but nothing may happen
        with pytest.raises((TypeError, ValueError)):
            select(bad, (ch.send, 2), default)
        return len(ch)

    assert run(main) == 1


def test_two_defaults_raise() -> None:
    def main() -> None:
        with pytest.raises((TypeError, ValueError)):
            select(default, default)
        with pytest.raises((TypeError, ValueError)):
            select(Chan().recv, default, full().recv, default)

    run(main)


def test_bad_case_in_a_would_be_blocking_select_raises_instead_of_blocking() -> None:
    def main() -> None:
        with pytest.raises((TypeError, ValueError)):
            select(Chan().recv, "oops")
        with pytest.raises((TypeError, ValueError)):
            select("oops")

    run(main)


# ---- plain threads ---------------------------------------------------------------------


def test_plain_thread_select_is_woken_by_a_goroutine(start_thread) -> None:
    def thread(a: Chan[str], b: Chan[str], result: Chan[object]) -> None:
        result.send(select(a.recv, b.recv))

    def main() -> object:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        result: Chan[object] = Chan()
        start_thread(thread, a, b, result)
        b.send("from a goroutine")
        return recv_within(result)

    assert run(main) == (1, "from a goroutine")


def test_plain_thread_select_with_default_does_not_block() -> None:
    results = []
    thread = threading.Thread(target=lambda: results.append(select(Chan().recv, default)))
    thread.start()
    thread.join(10)
    assert results == [(1, None)]


def test_plain_thread_select_with_timeout_outside_run() -> None:
    start = time.monotonic()
    index, _ = select(Chan().recv, gtime.after(0.05).recv)
    elapsed = time.monotonic() - start
    assert index == 1
    assert 0.045 <= elapsed <= 2.0


# ---- a plain thread interrupted while it waits (Ctrl-C) ------------------------------------
# See test_chan's section of the same name: a select given up leaves no live
# case behind, and what a case received as the wait was interrupted goes back.


def test_an_interrupted_select_leaves_no_live_case(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    a: Chan[str] = Chan()
    b: Chan[str] = Chan()
    interrupt_main()
    with pytest.raises(Interrupted):
        select(a.recv, (b.send, "given up"))
    result: Chan[tuple[int, Any]] = Chan(1)
    peer.go(lambda: result.send(select(b.recv, default)))
    assert recv_within(result) == (1, None)  # the send case is gone
    peer.go(a.send, "after")
    assert recv_within(a) == "after"  # and so is the receive case


@pytest.mark.parametrize("kind", ["recv", "recv_ok"])
def test_a_value_a_select_received_as_it_was_interrupted_goes_back(
    peer: Peer, interrupt_main: Callable[..., None], kind: str
) -> None:
    a: Chan[str] = Chan()
    b: Chan[str] = Chan()
    interrupt_main(during=lambda: b.send("raced"))  # b's case fires just before the exception
    with pytest.raises(Interrupted):
        select(getattr(a, kind), getattr(b, kind))
    peer.go(b.send, "after")
    assert [recv_within(b), recv_within(b)] == ["raced", "after"]
    assert select(a.recv, default) == (1, None)


def test_a_select_send_taken_as_it_was_interrupted_is_delivered_once(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    a: Chan[str] = Chan()
    b: Chan[str] = Chan()
    taken: list[str | None] = []
    interrupt_main(during=lambda: taken.append(b.recv()))
    with pytest.raises(Interrupted):
        select(a.recv, (b.send, "raced"))
    assert taken == ["raced"]
    assert select(b.recv, default) == (1, None)
    peer.go(a.send, "after")
    assert recv_within(a) == "after"


# ---- Go's test/chan programs -----------------------------------------------------------


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("procs", [1, 2])
def test_double_select_sends_each_value_once(procs: int) -> None:
    # Go's doubleselect.go: a sender offers each value on four channels in one
    # select; four muxes forward to one channel. A select that ran two cases
    # would deliver some value twice.
    n = 10_000

    def sender(channels: list[Chan[int]]) -> None:
        c1, c2, c3, c4 = channels
        for i in range(n):
            select((c1.send, i), (c2.send, i), (c3.send, i), (c4.send, i))
        for ch in channels:
            ch.close()

    def mux(out: Chan[object], inbox: Chan[int]) -> None:
        for value in inbox:
            out.send(value)
        out.send("closed")

    def main() -> Counter[object]:
        channels: list[Chan[int]] = [Chan() for _ in range(4)]
        out: Chan[object] = Chan()
        go(sender, channels)
        for ch in channels:
            go(mux, out, ch)
        seen: Counter[object] = Counter()
        while seen["closed"] < 4:
            seen[out.recv()] += 1
        return seen

    seen = run(main, gomaxprocs=procs)
    assert seen.pop("closed") == 4
    assert seen == Counter(range(n))


def test_select_proceeds_with_the_ready_case() -> None:
    # Go's select4.go.
    def main() -> tuple[int, Any]:
        c: Chan[int] = Chan(1)
        c1: Chan[int] = Chan()
        c.send(42)
        return select(c1.recv, c.recv)

    assert run(main) == (1, 42)


def test_failed_select_cases_do_not_corrupt_other_waiters() -> None:
    # Go's select6.go (issue 2075): a select that lost on c1, queued behind
    # another receiver, must leave c1's queue working for later waiters.
    def main() -> None:
        c1: Chan[bool] = Chan()
        c2: Chan[bool] = Chan()
        c3: Chan[bool] = Chan()
        go(c1.recv)

        def selector() -> None:
            index, _ = select(c1.recv, c2.recv)
            assert index == 1, "c1 was never sent on before c3"
            c3.send(True)
            c1.recv()

        go(selector)
        go(c2.send, True)
        c3.recv()
        c1.send(True)
        c1.send(True)
        verify_none()  # the goroutines it started have finished

    run(main)


RECEIVERS = {
    "recv": lambda c: c.recv(),
    "select with one case": lambda c: select(c.recv),
    "select with two cases": lambda c: select(c.recv, Chan().recv),
}
SENDERS = {
    "send": lambda c: c.send(1),
    "select with one case": lambda c: select((c.send, 1)),
    "select with two cases": lambda c: select((c.send, 1), (Chan().send, 1)),
}


@pytest.mark.parametrize("receiver", list(RECEIVERS))
@pytest.mark.parametrize("sender", list(SENDERS))
def test_select_discarding_a_value_still_completes(sender: str, receiver: str) -> None:
    # Go's select7.go: every pairing of plain and select send/receive completes.
    def main() -> object:
        c: Chan[int] = Chan()
        done: Chan[object] = Chan()
        go(lambda: done.send(RECEIVERS[receiver](c)))
        runtime.gosched()
        SENDERS[sender](c)
        received = done.recv()
        verify_none()  # the goroutines it started have finished
        return received

    assert run(main) in (1, (0, 1))


def test_repeated_selects_do_not_accumulate_memory() -> None:
    # Go's select2.go: 30,000 selects whose second case never fires must not
    # leave a waiter behind each time.
    n = 30_000

    def sender(c: Chan[int], count: int) -> None:
        for _ in range(count):
            c.send(1)

    def receive(c: Chan[int], dummy: Chan[int], count: int) -> None:
        for _ in range(count):
            index, _ = select(c.recv, dummy.recv)
            assert index == 0

    def main() -> int:
        c: Chan[int] = Chan()
        dummy: Chan[int] = Chan()
        go(sender, c, 2000)
        receive(c, dummy, 2000)  # warm up
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        go(sender, c, n)
        receive(c, dummy, n)
        gc.collect()
        returned = tracemalloc.get_traced_memory()[0] - before
        verify_none()  # the goroutines it started have finished
        return returned

    tracemalloc.start()
    try:
        growth = run(main, gomaxprocs=1)
    finally:
        tracemalloc.stop()
    # A leaked waiter costs at least ~100 bytes: 30,000 of them would be ~3 MB.
    assert growth < 300_000, f"{growth} bytes more after {n} selects"


# ---- every pair of case kinds (the meaning of Go's generated select5.go) ---------------

# Each kind builds (case, channel) and says whether the case is ready.
KINDS: dict[str, Any] = {
    "recv ready": lambda: (lambda ch: (ch.recv, ch))(full("r")),
    "recv_ok ready": lambda: (lambda ch: (ch.recv_ok, ch))(full("r")),
    "recv closed": lambda: (lambda ch: (ch.recv, ch))(closed()),
    "recv_ok closed": lambda: (lambda ch: (ch.recv_ok, ch))(closed()),
    "recv blocked": lambda: (lambda ch: (ch.recv, ch))(Chan()),
    "recv nil": lambda: (nilchan.recv, nilchan),
    "send ready": lambda: (lambda ch: ((ch.send, "s"), ch))(Chan(1)),
    "send blocked": lambda: (lambda ch: ((ch.send, "s"), ch))(Chan()),
    "send nil": lambda: ((nilchan.send, "s"), nilchan),
    "send closed": lambda: (lambda ch: ((ch.send, "s"), ch))(closed()),
}
READY = {"recv ready", "recv_ok ready", "recv closed", "recv_ok closed", "send ready"}
EXPECTED_VALUE = {
    "recv ready": "r",
    "recv_ok ready": ("r", True),
    "recv closed": None,
    "recv_ok closed": (None, False),
    "send ready": None,
}


def _buffer_after(kind: str, chosen: bool) -> int:
    """len() of the case's channel after the select."""
    if kind in ("recv ready", "recv_ok ready"):
        return 0 if chosen else 1
    if kind == "send ready":
        return 1 if chosen else 0
    return 0


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("with_default", [False, True], ids=["", "default"])
@pytest.mark.parametrize(
    "kinds", list(itertools.product(KINDS, repeat=2)), ids=lambda k: "+".join(k)
)
def test_every_pair_of_case_kinds(kinds: tuple[str, str], with_default: bool) -> None:
    def main() -> tuple[str, Any, list[int]]:
        built = [KINDS[kind]() for kind in kinds]
        cases = [case for case, _ in built]
        if with_default:
            cases.append(default)
        try:
            outcome: tuple[str, Any] = ("returned", select(*cases))
        except ClosedChannelError:
            outcome = ("raised", None)
        return outcome[0], outcome[1], [len(ch) for _, ch in built]

    ready = [i for i, kind in enumerate(kinds) if kind in READY or kind == "send closed"]
    if not ready and not with_default:
        with pytest.raises(DeadlockError):
            run(main)
        return
    how, result, lengths = run(main)
    if how == "raised":
        assert any(kinds[i] == "send closed" for i in ready)
        assert lengths == [_buffer_after(kind, False) for kind in kinds]
        return
    index, value = result
    if not ready:
        assert (index, value) == (2, None)
    else:
        assert index in ready
        assert kinds[index] != "send closed"
        assert value == EXPECTED_VALUE[kinds[index]]
    assert lengths == [_buffer_after(kind, i == index) for i, kind in enumerate(kinds)]


# ---- stress ----------------------------------------------------------------------------


@pytest.mark.parametrize("procs", [1, 2])
def test_select_stress(procs: int) -> None:
    # TestSelectStress: per channel one plain sender and one plain receiver,
    # plus one goroutine that sends N on each of the four in a single select
    # and one that receives N from each in a single select, disabling a case
    # (nilchan) once its quota is done. It must all finish, with no deadlock.
    n = 1500

    def plain_sender(c: Chan[int], done: Chan[str]) -> None:
        for _ in range(n):
            c.send(0)
        done.send("plain sender")

    def plain_receiver(c: Chan[int], done: Chan[str]) -> None:
        for _ in range(n):
            c.recv()
        done.send("plain receiver")

    def select_sender(chans: list[Chan[int]], done: Chan[str]) -> None:
        counts = [0] * 4
        live = list(chans)
        for _ in range(4 * n):
            index, _ = select(*[(c.send, 0) for c in reversed(live)])
            k = 3 - index
            counts[k] += 1
            if counts[k] == n:
                live[k] = nilchan
        done.send("select sender")

    def select_receiver(chans: list[Chan[int]], done: Chan[str]) -> None:
        counts = [0] * 4
        live = list(chans)
        for _ in range(4 * n):
            k, _ = select(*[c.recv for c in live])
            counts[k] += 1
            if counts[k] == n:
                live[k] = nilchan
        done.send("select receiver")

    def main() -> Counter[object]:
        chans: list[Chan[int]] = [Chan(), Chan(), Chan(2), Chan(3)]
        done: Chan[str] = Chan()
        for c in chans:
            go(plain_sender, c, done)
            go(plain_receiver, c, done)
        go(select_sender, chans, done)
        go(select_receiver, chans, done)
        returned = Counter(done.recv() for _ in range(10))
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == Counter(
        {"plain sender": 4, "plain receiver": 4, "select sender": 1, "select receiver": 1}
    )
