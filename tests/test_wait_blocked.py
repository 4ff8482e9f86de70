"""goroutines.testing.wait_blocked: wait until a goroutine is parked in an operation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import parse_stack, recv_within

import goroutines
from goroutines import Chan, context, go, nilchan, runtime, select, semaphore, sync
from goroutines.testing import verify_none, wait_blocked

# Each case: build the object, return (the operation a goroutine blocks in,
# a function that blocks in it, a function that releases it).
Case = Callable[[], tuple[Callable[..., Any], Callable[[], Any], Callable[[], Any]]]


def chan_recv() -> Any:
    ch: Chan[int] = Chan()
    return ch.recv, ch.recv, lambda: ch.send(1)


def chan_recv_ok() -> Any:
    ch: Chan[int] = Chan()
    return ch.recv_ok, ch.recv_ok, ch.close


def chan_send() -> Any:
    ch: Chan[int] = Chan()
    return ch.send, lambda: ch.send(1), ch.recv


def recv_view() -> Any:
    ch: Chan[int] = Chan()
    view = ch.recv_only()
    return view.recv, ch.recv, lambda: ch.send(1)


def send_view() -> Any:
    ch: Chan[int] = Chan(1)
    ch.send(0)
    view = ch.send_only()
    return view.send, lambda: ch.send(1), ch.recv


def mutex_lock() -> Any:
    mu = sync.Mutex()
    mu.lock()
    return mu.lock, lambda: (mu.lock(), mu.unlock()), mu.unlock


def rwmutex_lock() -> Any:
    rw = sync.RWMutex()
    rw.rlock()
    return rw.lock, lambda: (rw.lock(), rw.unlock()), rw.runlock


def rwmutex_rlock() -> Any:
    rw = sync.RWMutex()
    rw.lock()
    return rw.rlock, lambda: (rw.rlock(), rw.runlock()), rw.unlock


def waitgroup_wait() -> Any:
    wg = sync.WaitGroup()
    wg.add(1)
    return wg.wait, wg.wait, wg.done


def cond_wait() -> Any:
    cond = sync.Cond(sync.Mutex())

    def wait() -> None:
        with cond.l:
            cond.wait()

    def signal() -> None:
        with cond.l:
            cond.signal()

    return cond.wait, wait, signal


def once_do() -> Any:
    once = sync.Once()
    started: Chan[None] = Chan()
    finish: Chan[None] = Chan()

    def slow() -> None:
        started.send(None)
        finish.recv()

    go(once.do, slow)
    started.recv()
    return once.do, lambda: once.do(print), finish.close


def weighted_acquire() -> Any:
    sem = semaphore.Weighted(1)
    sem.acquire(context.background())
    return sem.acquire, lambda: sem.acquire(context.background()), sem.release


CASES: dict[str, Case] = {
    case.__name__: case
    for case in (
        chan_recv,
        chan_recv_ok,
        chan_send,
        recv_view,
        send_view,
        mutex_lock,
        rwmutex_lock,
        rwmutex_rlock,
        waitgroup_wait,
        cond_wait,
        once_do,
        weighted_acquire,
    )
}


@pytest.mark.parametrize("name", list(CASES))
def test_returns_once_a_goroutine_is_parked_in_the_operation(procs: int, name: str) -> None:
    def main() -> None:
        op, block, release = CASES[name]()
        returned: Chan[None] = Chan(1)

        def blocked() -> None:
            block()
            returned.send(None)

        go(blocked)
        wait_blocked(op)
        [(reason, _)] = [v for v in parse_stack(runtime.stack()).values() if ".blocked" in v[1]]
        assert reason not in ("running", "runnable")
        assert len(returned) == 0
        release()
        recv_within(returned)
        verify_none()

    goroutines.run(main, gomaxprocs=procs)


def test_waits_for_count_goroutines(procs: int) -> None:
    def main() -> None:
        ch: Chan[int] = Chan()
        for i in range(3):
            go(ch.send, i)
        wait_blocked(ch.send, count=3)
        assert runtime.stack().count("[chan send]") == 3
        assert sorted(ch.recv() for _ in range(3)) == [0, 1, 2]
        verify_none()

    goroutines.run(main, gomaxprocs=procs)


def test_a_select_counts_for_its_channels_in_their_direction(procs: int) -> None:
    def main() -> None:
        incoming: Chan[int] = Chan()
        outgoing: Chan[int] = Chan()
        done: Chan[int] = Chan(1)

        def selecting() -> None:
            done.send(select(incoming.recv, (outgoing.send, 1))[0])

        go(selecting)
        wait_blocked(incoming.recv)
        wait_blocked(outgoing.send)
        with pytest.raises(TimeoutError):
            wait_blocked(incoming.send, timeout=0.05)
        with pytest.raises(TimeoutError):
            wait_blocked(outgoing.recv, timeout=0.05)
        assert outgoing.recv() == 1
        assert done.recv() == 1

    goroutines.run(main, gomaxprocs=procs)


@pytest.mark.allow_goroutine_leaks  # nothing can ever wake a goroutine on nilchan
def test_nil_channel_operations(procs: int) -> None:
    def main() -> None:
        go(nilchan.recv)
        wait_blocked(nilchan.recv)
        with pytest.raises(TimeoutError):
            wait_blocked(nilchan.send, timeout=0.05)

    with pytest.raises(goroutines.DeadlockError):  # main, too, then blocks for good
        goroutines.run(lambda: (main(), nilchan.recv()), gomaxprocs=procs)


def test_a_goroutine_parked_elsewhere_does_not_count() -> None:
    def main() -> None:
        mine: Chan[int] = Chan()
        other: Chan[int] = Chan()
        go(other.recv)
        wait_blocked(other.recv)
        with pytest.raises(TimeoutError) as caught:
            wait_blocked(mine.recv, timeout=0.05)
        message = str(caught.value)
        assert message.startswith("wait_blocked: fewer than 1 goroutines parked in Chan.recv")
        assert "[chan receive]" in message  # the dump shows what they are doing instead
        other.send(1)
        verify_none()

    goroutines.run(main)


def test_from_a_plain_thread_it_looks_at_the_background_runtime() -> None:
    ch: Chan[int] = Chan()
    got: list[int] = []
    go(lambda: got.append(ch.recv()))
    wait_blocked(ch.recv)
    ch.send(7)
    verify_none()
    assert got == [7]


def test_a_plain_thread_blocked_does_not_count() -> None:
    def main() -> None:
        ch: Chan[int] = Chan()
        thread = threading.Thread(target=ch.recv)
        thread.start()
        with pytest.raises(TimeoutError):
            wait_blocked(ch.recv, timeout=0.05)
        ch.send(1)
        thread.join()

    goroutines.run(main)


@pytest.mark.parametrize(
    "op",
    [print, lambda: None, Chan().close, sync.Mutex().unlock, "ch.recv", None],
    ids=["builtin", "lambda", "close", "unlock", "str", "none"],
)
def test_rejects_what_is_not_a_blocking_operation(op: Any) -> None:
    with pytest.raises(TypeError, match="wait_blocked: op must be"):
        wait_blocked(op)


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_rejects_a_bad_count(count: Any) -> None:
    with pytest.raises(ValueError, match="count must be an int >= 1"):
        wait_blocked(Chan().recv, count=count)
