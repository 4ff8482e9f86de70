"""Channels: API.md's table, Go's ordering guarantees, and the meaning of Go's
channel tests (``test/chan/*.go`` and ``runtime/chan_test.go``)."""

from __future__ import annotations

import heapq
import itertools
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable

import pytest
from conftest import Interrupted, Peer, recv_within, send_within, wait_until_blocked
from hypothesis import given, settings
from hypothesis import strategies as st

from goroutines import (
    Chan,
    ClosedChannelError,
    DeadlockError,
    RecvChan,
    SendChan,
    default,
    go,
    nilchan,
    run,
    runtime,
    select,
)
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(30)

CAPACITIES = [0, 1, 3, 100]


def try_recv(ch: RecvChan[object]) -> tuple[bool, object]:
    """A non-blocking receive: (True, value) or (False, None)."""
    index, value = select(ch.recv, default)
    return index == 0, value


def try_send(ch: SendChan[object], value: object) -> bool:
    """A non-blocking send: whether it happened."""
    index, _ = select((ch.send, value), default)
    return index == 0


# ---- making channels -------------------------------------------------------------------


def test_channel_is_unbuffered_by_default() -> None:
    ch: Chan[int] = Chan()
    assert (len(ch), ch.cap) == (0, 0)


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_capacity_sets_cap(capacity: int) -> None:
    assert Chan(capacity).cap == capacity
    assert Chan(capacity=capacity).cap == capacity


def test_generic_subscription_makes_a_channel() -> None:
    ch = Chan[int](3)
    assert isinstance(ch, Chan)
    assert ch.cap == 3


def test_negative_capacity_raises_value_error() -> None:
    with pytest.raises(ValueError):
        Chan(-1)


@pytest.mark.parametrize("capacity", [2.5, "3", None, 1.0])
def test_non_int_capacity_raises_type_error(capacity: object) -> None:
    with pytest.raises(TypeError):
        Chan(capacity)  # type: ignore[arg-type]


def test_channels_of_empty_values_work() -> None:
    # Go's zerosize.go: channels of zero-size values. Python's nearest: (), None.
    def main() -> list[object]:
        unbuffered: Chan[tuple[()]] = Chan()
        buffered: Chan[None] = Chan(1)
        go(unbuffered.send, ())
        buffered.send(None)
        received = [unbuffered.recv(), buffered.recv_ok()]
        verify_none()  # the sender has finished
        return received

    assert run(main) == [(), (None, True)]


# ---- blocking --------------------------------------------------------------------------


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("capacity", CAPACITIES)
def test_recv_from_empty_channel_blocks(capacity: int) -> None:
    with pytest.raises(DeadlockError):
        run(Chan(capacity).recv)


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("capacity", CAPACITIES)
def test_recv_ok_from_empty_channel_blocks(capacity: int) -> None:
    with pytest.raises(DeadlockError):
        run(Chan(capacity).recv_ok)


@pytest.mark.allow_goroutine_leaks
def test_unbuffered_send_without_receiver_blocks() -> None:
    with pytest.raises(DeadlockError):
        run(Chan().send, 1)


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("capacity", [1, 3, 100])
def test_send_to_full_buffered_channel_blocks(capacity: int) -> None:
    def main() -> None:
        ch: Chan[int] = Chan(capacity)
        for i in range(capacity):
            ch.send(i)  # does not block: a slot is free
        assert len(ch) == capacity
        ch.send(capacity)  # blocks forever

    with pytest.raises(DeadlockError):
        run(main)


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_blocked_receivers_wait_until_values_arrive(capacity: int) -> None:
    # TestChan: receivers on an empty channel stay blocked, a non-blocking
    # receive does not block, and two sends release both receivers.
    def main() -> set[object]:
        ch: Chan[int] = Chan(capacity)
        done: Chan[object] = Chan()

        def recv_ok() -> None:
            value, ok = ch.recv_ok()
            assert ok
            done.send(value)

        go(lambda: done.send(ch.recv()))
        go(recv_ok)
        wait_until_blocked(2, "chan receive")
        assert try_recv(done) == (False, None)
        assert try_recv(ch) == (False, None)
        ch.send(7)
        ch.send(8)
        returned = {done.recv(), done.recv()}
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == {7, 8}


def test_unbuffered_send_completes_only_when_received() -> None:
    def main() -> list[str]:
        ch: Chan[int] = Chan()
        events: Chan[str] = Chan(10)

        def sender() -> None:
            ch.send(1)
            events.send("send returned")

        go(sender)
        wait_until_blocked(1, "chan send")
        assert len(events) == 0
        events.send("receiving")
        assert ch.recv() == 1
        return [events.recv(), events.recv()]

    assert run(main) == ["receiving", "send returned"]


@pytest.mark.parametrize("capacity", [1, 3])
def test_send_to_a_waiting_receiver_hands_the_value_over_directly(capacity: int) -> None:
    # The value goes straight to the receiver that waits: it never sits in the buffer.
    def main() -> tuple[int, object]:
        ch: Chan[str] = Chan(capacity)
        got: Chan[object] = Chan()
        go(lambda: got.send(ch.recv()))
        wait_until_blocked(1, "chan receive")
        ch.send("direct")
        buffered_after_send = len(ch)
        received = got.recv()
        verify_none()  # the goroutines it started have finished
        return buffered_after_send, received

    assert run(main) == (0, "direct")


@pytest.mark.parametrize("capacity", [1, 2])
def test_receive_from_full_buffer_moves_the_first_blocked_sender_in(capacity: int) -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        for i in range(capacity):
            ch.send(i)
        go(ch.send, capacity)
        wait_until_blocked(1, "chan send")
        first = ch.recv()
        assert len(ch) == capacity  # the blocked sender's value took the free slot
        returned = [first] + [ch.recv() for _ in range(capacity)]
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == list(range(capacity + 1))


# ---- ordering --------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_values_from_one_sender_arrive_in_the_order_sent(capacity: int) -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)

        def sender() -> None:
            for i in range(500):
                ch.send(i)

        go(sender)
        returned = [ch.recv() for _ in range(500)]
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == list(range(500))


def test_buffered_channel_is_fifo() -> None:
    # Go's fifo.go AsynchFifo.
    def main() -> list[object]:
        ch: Chan[int] = Chan(10)
        for i in range(10):
            ch.send(i)
        return [ch.recv() for _ in range(10)]

    assert run(main) == list(range(10))


def test_unbuffered_channel_in_a_daisy_chain_is_fifo() -> None:
    # Go's fifo.go SynchFifo: each link waits for its turn, then receives the
    # value whose number it carries.
    def link(ch: Chan[int], expected: int, turn: Chan[int], next_turn: Chan[int]) -> None:
        turn.recv()
        assert ch.recv() == expected
        next_turn.send(1)

    def main() -> None:
        ch: Chan[int] = Chan()
        start = turn = Chan[int]()
        for i in range(10):
            next_turn: Chan[int] = Chan()
            go(link, ch, i, turn, next_turn)
            turn = next_turn
        start.send(0)
        for i in range(10):
            ch.send(i)
        turn.recv()
        verify_none()  # the goroutines it started have finished

    run(main)


@pytest.mark.parametrize("capacity", [0, 2])
def test_blocked_receivers_are_served_first_come_first_served(capacity: int) -> None:
    def main() -> list[tuple[int, object]]:
        ch: Chan[int] = Chan(capacity)
        results: Chan[tuple[int, object]] = Chan(5)
        for rank in range(5):
            go(lambda rank=rank: results.send((rank, ch.recv())))
            wait_until_blocked(rank + 1, "chan receive")  # queue them in rank order
        for value in range(5):
            ch.send(value)
        return sorted(results.recv() for _ in range(5))

    assert run(main) == [(i, i) for i in range(5)]


@pytest.mark.parametrize("capacity", [0, 2])
def test_blocked_senders_are_served_first_come_first_served(capacity: int) -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        for value in range(capacity):
            ch.send(value)
        for value in range(capacity, capacity + 5):
            go(ch.send, value)
            wait_until_blocked(value - capacity + 1, "chan send")  # queue in value order
        returned = [ch.recv() for _ in range(capacity + 5)]
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == list(range(capacity + 5))


@pytest.mark.parametrize("capacity", [0, 1, 10])
def test_many_senders_and_receivers_see_every_value_exactly_once(capacity: int) -> None:
    # TestChan: 4 goroutines send 0..L-1 each, 4 receive L values each.
    senders, count = 4, 1000

    def main() -> Counter[object]:
        ch: Chan[int] = Chan(capacity)
        done: Chan[Counter[object]] = Chan()

        def sender() -> None:
            for i in range(count):
                ch.send(i)

        def receiver() -> None:
            done.send(Counter(ch.recv() for _ in range(count)))

        for _ in range(senders):
            go(sender)
            go(receiver)
        total: Counter[object] = Counter()
        for _ in range(senders):
            total += done.recv()
        verify_none()  # a sender woken by the last receive may not have returned yet
        return total

    assert run(main) == Counter({i: senders for i in range(count)})


def test_channel_capacity_bounds_how_many_senders_get_ahead() -> None:
    # The k-th receive happens before the (k+C)-th send completes: a channel
    # of capacity C used as a semaphore lets at most C goroutines in at once.
    slots = 3

    def main() -> tuple[int, int]:
        sem: Chan[None] = Chan(slots)
        entered: Chan[int] = Chan(10)
        release: Chan[None] = Chan()
        finished: Chan[None] = Chan()

        def worker(i: int) -> None:
            sem.send(None)
            entered.send(i)
            release.recv()
            sem.recv()
            finished.send(None)

        for i in range(10):
            go(worker, i)
        for _ in range(slots):
            entered.recv()
        wait_until_blocked(10 - slots, "chan send")
        inside = slots + len(entered)
        release.close()  # the rest now enter as slots free up
        for _ in range(10):
            finished.recv()
        returned = inside, len(sem)
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == (slots, 0)


# ---- close -----------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_recv_on_closed_channel_drains_the_buffer_then_returns_none_forever(
    capacity: int,
) -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        for i in range(min(capacity, 5)):
            ch.send(i + 1)
        ch.close()
        return [ch.recv() for _ in range(min(capacity, 5) + 10)]

    expected: list[object] = [i + 1 for i in range(min(capacity, 5))]
    assert run(main) == expected + [None] * 10


@pytest.mark.parametrize("capacity", [0, 3])
def test_recv_ok_on_closed_channel_returns_none_false_after_draining(capacity: int) -> None:
    def main() -> list[tuple[object, bool]]:
        ch: Chan[str] = Chan(capacity)
        if capacity:
            ch.send("buffered")
        ch.close()
        return [ch.recv_ok() for _ in range(3)]

    expected = [(None, False)] * 3
    if capacity:
        expected = [("buffered", True), (None, False), (None, False)]
    assert run(main) == expected


def test_recv_ok_reports_true_for_a_sent_none() -> None:
    def main() -> list[tuple[object, bool]]:
        ch: Chan[None] = Chan(1)
        ch.send(None)
        first = ch.recv_ok()
        ch.close()
        return [first, ch.recv_ok()]

    assert run(main) == [(None, True), (None, False)]


@pytest.mark.parametrize("capacity", [0, 3])
def test_close_wakes_every_blocked_receiver(capacity: int) -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        results: Chan[object] = Chan(6)
        for _ in range(3):
            go(lambda: results.send(ch.recv_ok()))
            go(lambda: results.send(ch.recv()))
        wait_until_blocked(6, "chan receive")
        ch.close()
        return sorted((results.recv() for _ in range(6)), key=repr)

    assert run(main) == [(None, False)] * 3 + [None] * 3


@pytest.mark.parametrize("capacity", [0, 2])
def test_close_wakes_every_blocked_sender_with_closed_channel_error(capacity: int) -> None:
    def main() -> list[str]:
        ch: Chan[int] = Chan(capacity)
        for i in range(capacity):
            ch.send(i)
        results: Chan[str] = Chan(3)

        def sender() -> None:
            try:
                ch.send(99)
            except ClosedChannelError as exc:
                results.send(str(exc))
            else:
                results.send("sent")

        for _ in range(3):
            go(sender)
        wait_until_blocked(3, "chan send")
        ch.close()
        return [results.recv() for _ in range(3)]

    assert run(main) == ["send on closed channel"] * 3


def test_buffered_values_survive_close_with_blocked_senders_failing() -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(2)
        ch.send(1)
        ch.send(2)
        failed: Chan[bool] = Chan(1)

        def sender() -> None:
            try:
                ch.send(3)
            except ClosedChannelError:
                failed.send(True)

        go(sender)
        wait_until_blocked(1, "chan send")
        ch.close()
        return [failed.recv(), ch.recv(), ch.recv(), ch.recv_ok()]

    assert run(main) == [True, 1, 2, (None, False)]


def test_send_on_closed_channel_raises_closed_channel_error() -> None:
    def main() -> None:
        ch: Chan[int] = Chan(1)
        ch.close()
        with pytest.raises(ClosedChannelError, match=r"^send on closed channel$"):
            ch.send(1)
        assert len(ch) == 0

    run(main)


def test_close_of_closed_channel_raises_closed_channel_error() -> None:
    def main() -> None:
        ch: Chan[int] = Chan()
        ch.close()
        with pytest.raises(ClosedChannelError, match=r"^close of closed channel$"):
            ch.close()

    run(main)


def test_closed_channel_error_is_a_runtime_error() -> None:
    assert issubclass(ClosedChannelError, RuntimeError)


def test_recv_on_closed_channel_never_blocks() -> None:
    # Go's select3.go: receiving from a closed channel never blocks.
    def main() -> None:
        ch: Chan[int] = Chan()
        ch.close()
        for _ in range(10):
            assert ch.recv() is None
            assert ch.recv_ok() == (None, False)

    run(main)


# ---- iteration -------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, 5])
def test_iteration_receives_until_closed_and_drained(capacity: int) -> None:
    def main() -> list[int]:
        ch: Chan[int] = Chan(capacity)

        def producer() -> None:
            for i in range(20):
                ch.send(i)
            ch.close()

        go(producer)
        return list(ch)

    assert run(main) == list(range(20))


def test_iteration_of_a_closed_empty_channel_ends_at_once() -> None:
    def main() -> list[int]:
        ch: Chan[int] = Chan()
        ch.close()
        return list(ch)

    assert run(main) == []


def test_iteration_yields_sent_none_values() -> None:
    def main() -> list[object]:
        ch: Chan[object] = Chan(3)
        ch.send(None)
        ch.send(0)
        ch.send(None)
        ch.close()
        return list(ch)

    assert run(main) == [None, 0, None]


def test_iteration_can_stop_early_and_resume() -> None:
    def main() -> tuple[list[int], list[int]]:
        ch: Chan[int] = Chan(6)
        for i in range(6):
            ch.send(i)
        ch.close()
        first = []
        for value in ch:
            first.append(value)
            if value == 2:
                break
        return first, list(ch)

    assert run(main) == ([0, 1, 2], [3, 4, 5])


# ---- len and cap -----------------------------------------------------------------------


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_len_counts_buffered_values(capacity: int) -> None:
    # TestChan's len/cap checks.
    def main() -> list[int]:
        ch: Chan[int] = Chan(capacity)
        lengths = [len(ch)]
        for i in range(capacity):
            ch.send(i)
        lengths.append(len(ch))
        if capacity:
            ch.recv()
            lengths.append(len(ch))
        return lengths

    expected = [0, capacity] + ([capacity - 1] if capacity else [])
    assert run(main) == expected
    assert Chan(capacity).cap == capacity


def test_len_does_not_count_blocked_senders() -> None:
    def main() -> tuple[int, int]:
        unbuffered: Chan[int] = Chan()
        go(unbuffered.send, 1)
        wait_until_blocked(1, "chan send")
        length = len(unbuffered)
        unbuffered.recv()
        returned = length, unbuffered.cap
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == (0, 0)


def test_len_and_cap_work_outside_run() -> None:
    ch: Chan[int] = Chan(4)
    ch.send(1)  # a plain thread: does not block, a slot is free
    assert (len(ch), ch.cap) == (1, 4)
    assert ch.recv() == 1


# ---- direction-restricted views --------------------------------------------------------


def test_chan_is_both_a_send_chan_and_a_recv_chan() -> None:
    ch: Chan[int] = Chan()
    assert isinstance(ch, SendChan)
    assert isinstance(ch, RecvChan)


def test_send_only_view_is_a_send_chan_without_receive_methods() -> None:
    view = Chan[int](1).send_only()
    assert isinstance(view, SendChan)
    assert not isinstance(view, RecvChan)
    assert not isinstance(view, Chan)
    assert not hasattr(view, "recv")
    assert not hasattr(view, "recv_ok")


def test_recv_only_view_is_a_recv_chan_without_send_or_close() -> None:
    view = Chan[int](1).recv_only()
    assert isinstance(view, RecvChan)
    assert not isinstance(view, SendChan)
    assert not isinstance(view, Chan)
    assert not hasattr(view, "send")
    assert not hasattr(view, "close")


def test_views_act_on_the_same_channel() -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(3)
        tx, rx = ch.send_only(), ch.recv_only()
        tx.send(1)
        tx.send(2)
        seen: list[object] = [len(tx), len(rx), tx.cap, rx.cap]
        seen.append(ch.recv())
        tx.close()
        seen.append(rx.recv())
        seen.append(rx.recv_ok())
        return seen

    assert run(main) == [2, 2, 3, 3, 1, 2, (None, False)]


def test_views_work_across_goroutines() -> None:
    def producer(tx: SendChan[int]) -> None:
        for i in range(5):
            tx.send(i)
        tx.close()

    def main() -> list[int]:
        ch: Chan[int] = Chan()
        go(producer, ch.send_only())
        return list(ch.recv_only())

    assert run(main) == list(range(5))


# ---- nilchan ---------------------------------------------------------------------------


@pytest.mark.allow_goroutine_leaks
def test_nilchan_recv_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(nilchan.recv)


@pytest.mark.allow_goroutine_leaks
def test_nilchan_recv_ok_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(nilchan.recv_ok)


@pytest.mark.allow_goroutine_leaks
def test_nilchan_send_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(nilchan.send, 1)


@pytest.mark.allow_goroutine_leaks
def test_nilchan_iteration_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(list, nilchan)


def test_close_of_nilchan_raises_closed_channel_error() -> None:
    with pytest.raises(ClosedChannelError, match=r"^close of nil channel$"):
        nilchan.close()


def test_nilchan_has_no_length_and_no_capacity() -> None:
    assert (len(nilchan), nilchan.cap) == (0, 0)


def test_nilchan_is_a_channel() -> None:
    assert isinstance(nilchan, SendChan)
    assert isinstance(nilchan, RecvChan)


@pytest.mark.allow_goroutine_leaks
def test_nilchan_send_and_recv_never_pair_up() -> None:
    def main() -> None:
        go(nilchan.send, 1)
        nilchan.recv()

    with pytest.raises(DeadlockError):
        run(main)


# ---- values ----------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, 1])
def test_channels_carry_any_object_by_identity(capacity: int) -> None:
    # TestChanSendInterface and nonblock.go's several value types.
    class Thing:
        pass

    values: list[object] = [Thing(), None, 0, False, "", (), [1, 2], 2**100, 1.5, Thing]

    def main() -> bool:
        ch: Chan[object] = Chan(capacity)

        def sender() -> None:
            for value in values:
                ch.send(value)

        go(sender)
        received = [ch.recv() for _ in values]
        returned = all(a is b for a, b in zip(received, values, strict=True))
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main)


@pytest.mark.parametrize("capacity", [0, 1])
def test_non_blocking_operations_succeed_only_with_a_ready_partner(capacity: int) -> None:
    # Go's nonblock.go, with channels instead of sleeps: a non-blocking receive
    # on an empty channel fails; it succeeds once a sender waits (unbuffered)
    # or has filled the buffer; a non-blocking send succeeds once a receiver waits.
    def main() -> None:
        for value in (123, 2**70, True, "hello"):
            ch: Chan[object] = Chan(capacity)
            strobe: Chan[object] = Chan()
            assert try_recv(ch) == (False, None)

            go(lambda ch=ch, strobe=strobe: strobe.send(ch.recv()))
            wait_until_blocked(1, "chan receive")
            assert try_send(ch, value)
            assert strobe.recv() == value
            # A woken goroutine shows its old wait reason until it runs: let the
            # receiver finish, so that the wait for a blocked sender below
            # cannot count it.
            verify_none()

            def sender(
                ch: Chan[object] = ch, strobe: Chan[object] = strobe, value: object = value
            ) -> None:
                ch.send(value)
                strobe.send("sent")

            go(sender)
            if capacity:
                assert strobe.recv() == "sent"
            else:
                wait_until_blocked(1, "chan send")
            assert try_recv(ch) == (True, value)
            if not capacity:
                assert strobe.recv() == "sent"
            verify_none()  # the sender has finished too, before the next round waits

    run(main)


# ---- plain threads ---------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, 2])
def test_plain_thread_sends_to_a_goroutine(capacity: int, start_thread) -> None:
    def thread(ch: Chan[int]) -> None:
        for i in range(100):
            ch.send(i)
        ch.close()

    def main() -> list[int]:
        ch: Chan[int] = Chan(capacity)
        start_thread(thread, ch)
        out = []
        while True:
            value, ok = recv_within(ch, ok=True)
            if not ok:
                return out
            out.append(value)

    assert run(main) == list(range(100))


@pytest.mark.parametrize("capacity", [0, 2])
def test_goroutine_sends_to_a_plain_thread(capacity: int, start_thread) -> None:
    def thread(ch: Chan[int], result: Chan[list[int]]) -> None:
        result.send(list(ch))

    def main() -> list[int]:
        ch: Chan[int] = Chan(capacity)
        result: Chan[list[int]] = Chan()
        start_thread(thread, ch, result)
        for i in range(100):
            ch.send(i)
        ch.close()
        return recv_within(result)

    assert run(main) == list(range(100))


def test_plain_thread_blocked_in_recv_is_woken_by_close(start_thread) -> None:
    def thread(ch: Chan[int], result: Chan[object]) -> None:
        result.send(ch.recv_ok())

    def main() -> object:
        ch: Chan[int] = Chan()
        result: Chan[object] = Chan()
        start_thread(thread, ch, result)
        ch.close()  # the thread may be blocked in recv_ok already, or not yet: same result
        return recv_within(result)

    assert run(main) == (None, False)


def test_plain_thread_blocked_in_send_gets_closed_channel_error(start_thread) -> None:
    ready: threading.Event = threading.Event()

    def thread(ch: Chan[int], result: Chan[object]) -> None:
        ready.set()
        try:
            ch.send(1)
        except ClosedChannelError as exc:
            result.send(str(exc))
        else:
            result.send("sent")

    def main() -> object:
        ch: Chan[int] = Chan()
        result: Chan[object] = Chan()
        start_thread(thread, ch, result)
        assert ready.wait(10)
        ch.close()
        return recv_within(result)

    # Either the thread was blocked when close came, or it sent after: both raise.
    assert run(main) == "send on closed channel"


def test_plain_threads_exchange_values_without_any_run(start_thread) -> None:
    ping: Chan[int] = Chan()
    pong: Chan[int] = Chan()

    def echo() -> None:
        for value in ping:
            pong.send(value * 2)

    start_thread(echo)
    results = []
    for i in range(50):
        ping.send(i)
        results.append(pong.recv())
    ping.close()
    assert results == [2 * i for i in range(50)]


@pytest.mark.parametrize("procs", [1, 2])
def test_threads_and_goroutines_share_channels_without_losing_values(
    procs: int, start_thread
) -> None:
    n_threads, n_goroutines, per_sender = 3, 6, 200

    def main() -> Counter[object]:
        work: Chan[tuple[str, int, int]] = Chan(4)
        results: Chan[Counter[object]] = Chan()

        def produce(kind: str, ident: int) -> None:
            for i in range(per_sender):
                work.send((kind, ident, i))

        def consume() -> None:
            results.send(Counter(work.recv() for _ in range(per_sender)))

        for t in range(n_threads):
            start_thread(produce, "thread", t)
            start_thread(consume)
        for g in range(n_goroutines):
            go(produce, "goroutine", g)
            go(consume)
        total: Counter[object] = Counter()
        for _ in range(n_threads + n_goroutines):
            total += recv_within(results)
        verify_none()  # the goroutines it started have finished
        return total

    expected = Counter(
        [("thread", t, i) for t in range(n_threads) for i in range(per_sender)]
        + [("goroutine", g, i) for g in range(n_goroutines) for i in range(per_sender)]
    )
    assert run(main, gomaxprocs=procs) == expected


def test_goroutines_on_different_workers_talk_over_channels() -> None:
    # Pin two goroutines to two worker threads (a goroutine stays on the worker
    # that started it), then ping-pong between them.
    barrier = threading.Barrier(2, timeout=10)

    def server(requests: Chan[int], replies: Chan[int], idents: Chan[int]) -> None:
        barrier.wait()  # both goroutines are running now, on two threads
        idents.send(threading.get_ident())
        for _ in range(rounds):
            replies.send(requests.recv() + 1)

    def client(requests: Chan[int], replies: Chan[int], idents: Chan[int]) -> None:
        barrier.wait()
        idents.send(threading.get_ident())
        value = 0
        for _ in range(rounds):
            requests.send(value)
            value = replies.recv()
        idents.send(value)

    def main() -> tuple[int, object]:
        requests: Chan[int] = Chan()
        replies: Chan[int] = Chan()
        idents: Chan[int] = Chan(3)
        go(server, requests, replies, idents)
        go(client, requests, replies, idents)
        threads = {idents.recv(), idents.recv()}
        returned = len(threads), idents.recv()
        verify_none()  # the goroutines it started have finished
        return returned

    rounds = 1000
    assert run(main, gomaxprocs=2) == (2, rounds)


# ---- Go's test/chan programs -----------------------------------------------------------


PRIMES_BELOW_100 = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73]
PRIMES_BELOW_100 += [79, 83, 89, 97]


@pytest.mark.allow_goroutine_leaks
def test_sieve_of_chained_filters_yields_the_primes() -> None:
    # Go's sieve1.go: a generator and a chain of filter goroutines.
    def generate(ch: Chan[int]) -> None:
        i = 2
        while True:
            ch.send(i)
            i += 1

    def filter_multiples(inbox: Chan[int], outbox: Chan[int], prime: int) -> None:
        while True:
            i = inbox.recv()
            assert i is not None
            if i % prime:
                outbox.send(i)

    def sieve(primes: Chan[int]) -> None:
        ch: Chan[int] = Chan()
        go(generate, ch)
        while True:
            prime = ch.recv()
            assert prime is not None
            primes.send(prime)
            filtered: Chan[int] = Chan()
            go(filter_multiples, ch, filtered, prime)
            ch = filtered

    def main() -> list[object]:
        primes: Chan[int] = Chan()
        go(sieve, primes)
        return [primes.recv() for _ in range(25)]

    assert run(main) == PRIMES_BELOW_100


@pytest.mark.allow_goroutine_leaks
def test_sieve_merging_multiples_with_a_select_proxy_yields_the_primes() -> None:
    # Go's sieve2.go: odd candidates, a heap merging the channels of multiples
    # of each prime, and a proxy goroutine whose select disables its send case
    # (nilchan) while its buffer is empty.
    def odds() -> Chan[int]:
        out: Chan[int] = Chan(50)

        def produce() -> None:
            n = 5
            while True:
                out.send(n)
                n += 2

        go(produce)
        return out

    def multiples(p: int) -> Chan[int]:
        out: Chan[int] = Chan(10)

        def produce() -> None:
            n = p * p
            while True:
                out.send(n)
                n += 2 * p

        go(produce)
        return out

    def send_proxy(out: Chan[int]) -> Chan[int]:
        proxy: Chan[int] = Chan(10)

        def forward() -> None:
            buffered: deque[int] = deque()
            while True:
                target = out if buffered else nilchan
                head = buffered[0] if buffered else None
                index, value = select(proxy.recv, (target.send, head))
                if index == 0:
                    buffered.append(value)
                else:
                    buffered.popleft()

        go(forward)
        return proxy

    def sieve() -> Chan[int]:
        out: Chan[int] = Chan(10)
        out.send(2)
        out.send(3)
        composites: Chan[int] = Chan(50)
        primes: Chan[int] = Chan(10)
        primes.send(3)

        def merge() -> None:
            heap: list[tuple[int, int, Chan[int]]] = []
            serial = itertools.count()  # breaks ties between equal heads

            def advance() -> int:
                # Pop the smallest head; refill its channel's entry.
                value, _, ch = heapq.heappop(heap)
                heapq.heappush(heap, (ch.recv(), next(serial), ch))
                return value

            smallest = 15
            while True:
                m = multiples(primes.recv())
                head = m.recv()
                while smallest < head:
                    composites.send(smallest)
                    smallest = advance()
                while smallest == head:
                    smallest = advance()
                composites.send(head)
                heapq.heappush(heap, (m.recv(), next(serial), m))

        def sift() -> None:
            proxy = send_proxy(primes)
            candidates = odds()
            p = candidates.recv()
            while True:
                c = composites.recv()
                while p < c:
                    proxy.send(p)
                    out.send(p)
                    p = candidates.recv()
                if p == c:
                    p = candidates.recv()

        go(merge)
        go(sift)
        return out

    def main() -> list[object]:
        primes = sieve()
        return [primes.recv() for _ in range(len(PRIMES_BELOW_100))]

    assert run(main) == PRIMES_BELOW_100


def test_chain_of_10000_goroutines_passes_a_value_through_each() -> None:
    # Go's test/chan/goroutines.go: each goroutine adds one on its way left.
    n = 10_000

    def link(left: Chan[int], right: Chan[int]) -> None:
        left.send(1 + right.recv())

    def main() -> object:
        leftmost: Chan[int] = Chan()
        left = leftmost
        for _ in range(n):
            right: Chan[int] = Chan()
            go(link, left, right)
            left = right
        go(left.send, 0)
        received = leftmost.recv()
        verify_none()  # every link has finished
        return received

    assert run(main) == n


def test_multi_consumer_sum() -> None:
    # TestMultiConsumer: a feeder, 23 workers ranging over a queue and a
    # closer; the consumer sees every value once, whatever the interleaving.
    n_workers, n_items = 23, 20_000
    weights = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31]

    def main() -> tuple[int, int, int]:
        queue: Chan[int] = Chan(n_workers * 3)
        results: Chan[int] = Chan(n_workers * 3)
        workers_done: Chan[None] = Chan()
        expected = sum(weights[i % len(weights)] for i in range(n_items))

        def worker(w: int) -> None:
            for value in queue:
                if weights[w % len(weights)] == value:
                    runtime.gosched()  # mess with the FIFO-ish order
                results.send(value)
            workers_done.send(None)

        def feeder() -> None:
            for i in range(n_items):
                queue.send(weights[i % len(weights)])
            queue.close()
            for _ in range(n_workers):
                workers_done.recv()
            results.close()

        for w in range(n_workers):
            go(worker, w)
        go(feeder)
        count = total = 0
        for value in results:
            count += 1
            total += value
        returned = count, total, expected
        verify_none()  # the goroutines it started have finished
        return returned

    count, total, expected = run(main)
    assert (count, total) == (n_items, expected)


# ---- close and non-blocking races (runtime/chan_test.go) -------------------------------


@pytest.mark.parametrize("procs", [1, 2])
def test_non_blocking_recv_sees_a_value_while_the_channel_is_being_closed(procs: int) -> None:
    # TestNonblockRecvRace: the channel holds a value (or is closed) the whole
    # time, so the non-blocking receive must never take the default case.
    def main() -> Counter[object]:
        outcomes: Chan[str] = Chan(2000)
        for _ in range(2000):
            ch: Chan[int] = Chan(1)
            ch.send(1)
            go(lambda ch=ch: outcomes.send("default" if select(ch.recv, default)[0] else "recv"))
            ch.close()
            ch.recv()
        returned = Counter(outcomes.recv() for _ in range(2000))
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == Counter(recv=2000)


@pytest.mark.parametrize("close_second", [False, True])
@pytest.mark.parametrize("procs", [1, 2])
def test_non_blocking_select_acts_on_one_moment(procs: int, close_second: bool) -> None:
    # TestNonblockSelectRace(2): from the moment the goroutine starts, c1 or c2
    # is always ready, so its non-blocking select must never take default.
    def main() -> int:
        defaults = 0
        done: Chan[bool] = Chan(1)
        for _ in range(1000):
            c1: Chan[int] = Chan(1)
            c2: Chan[int] = Chan(0 if close_second else 1)
            c1.send(1)

            def probe(c1: Chan[int] = c1, c2: Chan[int] = c2) -> None:
                index, _ = select(c1.recv, c2.recv, default)
                done.send(index != 2)

            go(probe)
            if close_second:
                c2.close()
            else:
                c2.send(1)
            select(c1.recv, default)
            defaults += not done.recv()
        return defaults

    assert run(main, gomaxprocs=procs) == 0


@pytest.mark.parametrize("procs", [1, 2])
def test_concurrent_close_loses_no_value(procs: int) -> None:
    # Senders race a close: every send that returned normally was received
    # exactly once; every other send raised ClosedChannelError.
    n_senders, per_sender = 20, 50

    def main() -> tuple[Counter[object], Counter[object], int]:
        ch: Chan[tuple[int, int]] = Chan(4)
        reports: Chan[tuple[list[tuple[int, int]], int]] = Chan(n_senders)
        received: Chan[Counter[object]] = Chan()

        def sender(s: int) -> None:
            sent, failed = [], 0
            for i in range(per_sender):
                try:
                    ch.send((s, i))
                    sent.append((s, i))
                except ClosedChannelError:
                    failed += 1
                if i % 7 == 0:
                    runtime.gosched()
            reports.send((sent, failed))

        def receiver() -> None:
            counts: Counter[object] = Counter()
            for value in ch:
                counts[value] += 1
                if len(counts) == n_senders * per_sender // 3:
                    ch.close()
            received.send(counts)

        go(receiver)
        for s in range(n_senders):
            go(sender, s)
        sent_total: Counter[object] = Counter()
        failed_total = 0
        for _ in range(n_senders):
            sent, failed = reports.recv()
            sent_total.update(sent)
            failed_total += failed
        returned = sent_total, received.recv(), failed_total
        verify_none()  # the goroutines it started have finished
        return returned

    sent, received, failed = run(main, gomaxprocs=procs)
    assert sent == received
    assert all(count == 1 for count in received.values())
    assert sum(sent.values()) + failed == n_senders * per_sender
    assert failed > 0


@pytest.mark.parametrize("procs", [1, 2])
def test_close_racing_blocked_receivers_and_selects_wakes_all(procs: int) -> None:
    def main() -> Counter[object]:
        outcomes: Chan[object] = Chan(300)
        for _ in range(50):
            ch: Chan[int] = Chan()
            other: Chan[int] = Chan()
            for _ in range(3):
                go(lambda ch=ch: outcomes.send(ch.recv_ok()))
                go(lambda ch=ch, other=other: outcomes.send(select(other.recv, ch.recv_ok)))
            runtime.gosched()
            ch.close()
        return Counter(outcomes.recv() for _ in range(300))

    assert run(main, gomaxprocs=procs) == Counter({(None, False): 150, (1, (None, False)): 150})


# ---- a model of buffered channels ------------------------------------------------------


operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, 99)),
        st.just(("recv",)),
        st.just(("recv_ok",)),
        st.just(("close",)),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None, database=None)
@given(capacity=st.integers(0, 4), ops=operations)
def test_non_blocking_operations_match_a_queue_model(capacity: int, ops: list[tuple]) -> None:
    # Drive one channel from one goroutine with non-blocking operations and
    # compare every outcome with a bounded FIFO queue.
    def main() -> None:
        ch: Chan[int] = Chan(capacity)
        model: deque[int] = deque()
        closed = False
        for op in ops:
            if op[0] == "send":
                if closed:
                    with pytest.raises(ClosedChannelError):
                        try_send(ch, op[1])
                else:
                    assert try_send(ch, op[1]) == (len(model) < capacity)
                    if len(model) < capacity:
                        model.append(op[1])
            elif op[0] == "recv":
                expected = (True, model.popleft()) if model else (closed, None)
                assert try_recv(ch) == expected
            elif op[0] == "recv_ok":
                index, value = select(ch.recv_ok, default)
                if model:
                    assert (index, value) == (0, (model.popleft(), True))
                elif closed:
                    assert (index, value) == (0, (None, False))
                else:
                    assert index == 1
            else:
                if closed:
                    with pytest.raises(ClosedChannelError):
                        ch.close()
                else:
                    ch.close()
                    closed = True
            assert len(ch) == len(model)

    run(main)


# ---- a plain thread interrupted while it waits (Ctrl-C) ------------------------------------
# A signal handler runs on the main thread, also while it waits in a channel
# operation, and may raise (KeyboardInterrupt). The operation raises that; the
# wait it gave up must leave nothing behind: no sender may hand it a value
# (lost), and no wake-up meant for it may end the thread's next wait.


@pytest.mark.parametrize("capacity", [0, 1])
def test_an_interrupted_receive_leaves_no_stale_waiter(
    peer: Peer, interrupt_main: Callable[..., None], capacity: int
) -> None:
    ch: Chan[str] = Chan(capacity)
    interrupt_main()
    with pytest.raises(Interrupted):
        ch.recv()
    peer.go(ch.send, "after")
    assert recv_within(ch) == "after"  # not swallowed by the receive given up
    assert try_recv(ch) == (False, None)


def test_ctrl_c_in_a_plain_receive_raises_keyboard_interrupt_and_leaves_no_waiter(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    ch: Chan[str] = Chan()
    interrupt_main(signum=signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        ch.recv()
    peer.go(ch.send, "after")
    assert recv_within(ch) == "after"


@pytest.mark.parametrize("capacity", [0, 1])
def test_an_interrupted_send_delivers_nothing(
    peer: Peer, interrupt_main: Callable[..., None], capacity: int
) -> None:
    ch: Chan[str] = Chan(capacity)
    for i in range(capacity):
        ch.send(f"buffered {i}")  # full: the next send waits
    interrupt_main()
    with pytest.raises(Interrupted):
        ch.send("given up")
    received: Chan[list[str | None]] = Chan(1)
    peer.go(lambda: received.send([ch.recv() for _ in range(capacity + 1)]))
    send_within(ch, "after")  # waits for the receiver: no stale wake-up ends it early
    assert recv_within(received) == [f"buffered {i}" for i in range(capacity)] + ["after"]


@pytest.mark.parametrize("capacity", [0, 2])
def test_a_value_received_as_the_receive_is_interrupted_goes_back_to_the_channel(
    peer: Peer, interrupt_main: Callable[..., None], capacity: int
) -> None:
    ch: Chan[str] = Chan(capacity)
    # The send, in the signal handler, finds the receiver waiting and hands the
    # value over just before the exception: the wake-up wins the race.
    interrupt_main(during=lambda: ch.send("raced"))
    with pytest.raises(Interrupted):
        ch.recv()
    peer.go(ch.send, "after")
    assert recv_within(ch) == "raced"  # neither lost nor overtaken
    assert recv_within(ch) == "after"


def test_a_value_handed_back_is_received_before_a_closed_channel_reports_closed(
    interrupt_main: Callable[..., None],
) -> None:
    ch: Chan[str] = Chan()
    interrupt_main(during=lambda: (ch.send("raced"), ch.close()))
    with pytest.raises(Interrupted):
        ch.recv()
    assert ch.recv_ok() == ("raced", True)
    assert ch.recv_ok() == (None, False)


def test_a_send_taken_as_it_is_interrupted_is_delivered_once(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    ch: Chan[str] = Chan()
    taken: list[str | None] = []
    interrupt_main(during=lambda: taken.append(ch.recv()))  # takes the waiting send's value
    with pytest.raises(Interrupted):
        ch.send("raced")
    assert taken == ["raced"]
    received: Chan[str | None] = Chan(1)
    peer.go(lambda: received.send(ch.recv()))
    send_within(ch, "after")
    assert recv_within(received) == "after"


def test_a_plain_thread_interrupted_many_times_leaves_the_channel_usable(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    ch: Chan[int] = Chan()
    for _ in range(20):  # about half the queue stale: the channel drops them
        interrupt_main()
        with pytest.raises(Interrupted):
            ch.recv()
    peer.go(lambda: [ch.send(i) for i in range(3)])
    assert [recv_within(ch) for _ in range(3)] == [0, 1, 2]
