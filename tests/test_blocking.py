"""goroutines.blocking: blocking calls on helper threads while only the caller parks."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import PATIENCE, recv_within, wait_until_blocked

from goroutines import Chan, DeadlockError, blocking, go, run, runtime
from goroutines.testing import verify_none


def test_returns_the_calls_result() -> None:
    assert run(lambda: blocking(sum, [1, 2, 3])) == 6


def test_passes_args_and_kwargs() -> None:
    assert run(lambda: blocking(int, "ff", base=16)) == 255


def test_reraises_the_same_exception_object_in_the_goroutine() -> None:
    error = LookupError("from the helper")

    def fail() -> None:
        raise error

    def main() -> BaseException | None:
        try:
            blocking(fail)
        except LookupError as caught:
            return caught
        return None

    assert run(main) is error


def test_runs_on_another_thread_inside_a_goroutine() -> None:
    def main() -> bool:
        return blocking(threading.get_ident) != threading.get_ident()

    assert run(main)


def test_from_a_plain_thread_just_calls_fn_on_that_thread() -> None:
    assert blocking(threading.get_ident) == threading.get_ident()


@pytest.mark.parametrize("procs", [1, 2])
def test_calls_from_many_goroutines_run_concurrently(procs: int) -> None:
    # Timing is the point: 10 calls of 0.2 s one after another take 2 s.
    def main() -> float:
        done: Chan[None] = Chan()
        started = time.monotonic()
        for _ in range(10):
            go(lambda: done.send(blocking(time.sleep, 0.2)))
        for _ in range(10):
            recv_within(done)
        returned = time.monotonic() - started
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) < 1.5


def test_other_goroutines_run_while_a_call_blocks() -> None:
    release = threading.Event()

    def main() -> int:
        finished: Chan[bool] = Chan()
        go(lambda: finished.send(blocking(release.wait, PATIENCE)))
        wait_until_blocked(1, "blocking call")
        # The worker is free: a ping-pong of 100 round trips completes.
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()

        def echo() -> None:
            for value in ping:
                pong.send(value)

        go(echo)
        total = 0
        for i in range(100):
            ping.send(i)
            total += recv_within(pong)
        ping.close()
        release.set()
        assert recv_within(finished) is True
        verify_none()  # the goroutines it started have finished
        return total

    assert run(main) == sum(range(100))


def test_a_parked_caller_shows_the_blocking_call_wait_reason() -> None:
    release = threading.Event()

    def main() -> str:
        done: Chan[None] = Chan()
        go(lambda: done.send(blocking(release.wait, PATIENCE)))
        wait_until_blocked(1, "blocking call")
        dump = runtime.stack()
        release.set()
        recv_within(done)
        verify_none()  # the goroutines it started have finished
        return dump

    assert "[blocking call]:" in run(main)


def test_a_call_in_flight_is_not_a_deadlock() -> None:
    # The thread that ends the call never touches a goroutines object, so only
    # the call in flight tells the detector that main can still wake.
    release = threading.Event()
    threading.Timer(0.2, release.set).start()
    assert run(lambda: blocking(release.wait, PATIENCE)) is True


@pytest.mark.allow_goroutine_leaks  # the deadlocked main is abandoned
def test_a_helper_that_used_a_channel_does_not_hide_a_later_deadlock() -> None:
    def main() -> None:
        ch: Chan[int] = Chan(1)
        blocking(ch.send, 1)  # the helper thread uses a channel...
        assert ch.recv() == 1
        Chan[int]().recv()  # ...and must not count as a running plain thread later

    with pytest.raises(DeadlockError):
        run(main)


def test_calls_beyond_the_thread_bound_wait_their_turn(python) -> None:
    # In a fresh process, so that no helper started by another test exists: the
    # bound caps how many helpers start, not ones already running.
    returncode, out, err = python(
        """
        import threading, time
        from goroutines import Chan, blocking, go, run, runtime

        lock = threading.Lock()
        running = [0, 0]  # now, most at once

        def work():
            with lock:
                running[0] += 1
                running[1] = max(running[1], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

        def main():
            done = Chan()
            for _ in range(8):
                go(lambda: done.send(blocking(work)))
            for _ in range(8):
                done.recv()

        runtime.set_blocking_threads(2)
        run(main)
        helpers = [t for t in threading.enumerate() if t.name == "goroutines-blocking"]
        print(running[1], len(helpers))
        """
    )
    assert returncode == 0, err
    most_at_once, helpers = map(int, out.split())
    assert most_at_once == 2
    assert helpers == 2


@pytest.mark.allow_goroutine_leaks  # abandons a goroutine in a call on purpose
def test_abandoning_a_goroutine_in_a_call_leaves_the_runtime_usable() -> None:
    release = threading.Event()
    finished = threading.Event()

    def call() -> None:
        try:
            release.wait(PATIENCE)
        finally:
            finished.set()

    def main() -> str:
        go(blocking, call)
        wait_until_blocked(1, "blocking call")
        return "main returned"

    assert run(main) == "main returned"  # returns at once, the call still running
    assert not finished.is_set()
    release.set()
    assert finished.wait(PATIENCE)
    assert run(lambda: blocking(sum, [2, 3])) == 5


def test_bad_input_is_rejected_at_the_boundary() -> None:
    with pytest.raises(TypeError):
        run(lambda: blocking(42))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        blocking("len")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        runtime.set_blocking_threads(0)
    with pytest.raises(TypeError):
        runtime.set_blocking_threads(2.0)  # type: ignore[arg-type]
