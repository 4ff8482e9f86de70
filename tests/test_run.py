"""``run`` and ``go``: results, arguments, exceptions, abandonment, re-entry."""

from __future__ import annotations

import functools
import signal
import sys
import threading
import time

import pytest
from conftest import PATIENCE, recv_within

import goroutines.time as gtime
from goroutines import Chan, DeadlockError, go, nilchan, run, runtime, select
from goroutines.sync import WaitGroup
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(30)


# ---- results and arguments -------------------------------------------------------------


def test_run_returns_the_result_of_main() -> None:
    assert run(lambda: 42) == 42


def test_run_returns_none_when_main_returns_nothing() -> None:
    def main() -> None:
        pass

    assert run(main) is None


def test_run_passes_positional_and_keyword_arguments_to_main() -> None:
    def main(a: int, b: int, *, c: int) -> tuple[int, int, int]:
        return a, b, c

    assert run(main, 1, 2, c=3) == (1, 2, 3)


@pytest.mark.parametrize("procs", [1, 2])
def test_main_runs_on_the_calling_thread(procs: int) -> None:
    # "Starts the runtime with the calling OS thread as its first worker, runs
    # main as the main goroutine": main must not be stolen by another worker.
    assert run(threading.get_ident, gomaxprocs=procs) == threading.get_ident()


@pytest.mark.parametrize("procs", [1, 2])
def test_main_can_install_signal_handlers(procs: int) -> None:
    # signal.signal only works on the interpreter's main thread: a program's
    # main goroutine, started by run() on that thread, must be able to call it.
    def main() -> object:
        previous = signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, previous)
        return previous

    assert run(main, gomaxprocs=procs) is signal.getsignal(signal.SIGUSR1)


def test_go_passes_positional_and_keyword_arguments() -> None:
    def worker(out: Chan[tuple[int, str, int]], a: int, b: str, *, c: int) -> None:
        out.send((a, b, c))

    def main() -> tuple[int, str, int]:
        out: Chan[tuple[int, str, int]] = Chan()
        go(worker, out, 1, "two", c=3)
        received = out.recv()
        verify_none()  # the goroutines it started have finished
        return received

    assert run(main) == (1, "two", 3)


def test_go_returns_none_before_the_goroutine_has_run() -> None:
    ran = []

    def main() -> tuple[object, list[int]]:
        done: Chan[None] = Chan()

        def worker() -> None:
            ran.append(1)
            done.send(None)

        result = go(worker)
        seen = list(ran)  # one processor and no blocking call since go: it cannot have run
        done.recv()
        return result, seen

    assert run(main, gomaxprocs=1) == (None, [])
    assert ran == [1]


def test_goroutine_can_start_goroutines() -> None:
    def node(depth: int, out: Chan[int]) -> None:
        if depth == 0:
            out.send(1)
            return
        left: Chan[int] = Chan()
        right: Chan[int] = Chan()
        go(node, depth - 1, left)
        go(node, depth - 1, right)
        out.send(left.recv() + right.recv())

    def main() -> int:
        out: Chan[int] = Chan()
        go(node, 8, out)
        returned = out.recv()
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == 2**8


def test_goroutines_are_stackful_and_block_deep_in_calls() -> None:
    # Blocking 300 calls deep, inside a generator and a with-block, is a
    # plain function call: the whole stack is kept while the goroutine waits.
    def descend(depth: int, ch: Chan[int]) -> int:
        if depth == 0:
            return ch.recv()
        return 1 + descend(depth - 1, ch)

    def values(ch: Chan[int]):  # a generator that blocks between items
        while True:
            value = ch.recv()
            if value is None:
                return
            yield value

    def main() -> tuple[int, list[int]]:
        ch: Chan[int] = Chan()
        result: Chan[int] = Chan()
        go(lambda: result.send(descend(300, ch)))
        go(lambda: [ch.send(i) for i in (5, 1, 2, 3)])
        depth = result.recv()
        with threading.Lock():
            collected = []
            for value in values(ch):
                collected.append(value)
                if len(collected) == 3:
                    break
        returned = depth, collected
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main) == (305, [1, 2, 3])


def _recurse(n: int) -> int:
    return 0 if n == 0 else 1 + _recurse(n - 1)


@pytest.mark.parametrize("procs", [1, 2])
def test_every_goroutine_can_recurse_almost_to_the_recursion_limit(procs: int) -> None:
    # A goroutine starts with an almost empty stack, whatever ran before it:
    # 300 goroutines that park one after the other (each start switches from
    # the previous one) must each still be able to recurse limit - 200 deep.
    depth = sys.getrecursionlimit() - 200

    def worker(k: int, out: Chan[int]) -> None:
        gtime.sleep(0.001)
        try:
            _recurse(depth)
        except RecursionError:
            out.send(k)
        else:
            out.send(-1)

    def main() -> list[int]:
        out: Chan[int] = Chan()
        for k in range(300):
            go(worker, k, out)
        returned = sorted(k for k in (out.recv() for _ in range(300)) if k >= 0)
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == []


def test_go_with_a_non_callable_raises_type_error() -> None:
    def main() -> None:
        with pytest.raises(TypeError):
            go(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            go("print")  # type: ignore[arg-type]

    run(main)


def test_go_accepts_any_callable() -> None:
    class Callable:
        def __init__(self, out: Chan[str]) -> None:
            self.out = out

        def __call__(self) -> None:
            self.out.send("called")

    def main() -> list[object]:
        out: Chan[object] = Chan(3)
        go(Callable(out))
        go(out.send, "bound method")
        go(functools.partial(out.send, "partial"))
        received = sorted([out.recv(), out.recv(), out.recv()], key=str)
        verify_none()  # the senders have finished
        return received

    assert run(main) == ["bound method", "called", "partial"]


# ---- exceptions ------------------------------------------------------------------------


def test_exception_in_main_is_reraised_as_the_same_object() -> None:
    raised = []

    def main() -> None:
        exc = ValueError("boom")
        raised.append(exc)
        raise exc

    with pytest.raises(ValueError, match="boom") as info:
        run(main)
    assert info.value is raised[0]


def test_exception_in_main_has_a_note_naming_goroutine_1_and_main() -> None:
    def main() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError) as info:
        run(main)
    notes = getattr(info.value, "__notes__", [])
    assert any("goroutine 1" in note and main.__qualname__ in note for note in notes), notes


@pytest.mark.allow_goroutine_leaks
def test_exception_in_goroutine_ends_the_run_while_main_is_blocked() -> None:
    raised = []

    def failing() -> None:
        exc = ZeroDivisionError("in a goroutine")
        raised.append(exc)
        raise exc

    def main() -> None:
        go(failing)
        nilchan.recv()  # blocks forever: only the exception can end the run

    with pytest.raises(ZeroDivisionError) as info:
        run(main)
    assert info.value is raised[0]


@pytest.mark.allow_goroutine_leaks
def test_exception_in_goroutine_has_a_note_with_its_number_and_qualname() -> None:
    def failing() -> None:
        raise OSError("x")

    def main() -> None:
        go(failing)
        select()

    with pytest.raises(OSError) as info:
        run(main, gomaxprocs=1)
    notes = getattr(info.value, "__notes__", [])
    # goroutine 1 is main; the first goroutine main creates is goroutine 2.
    assert any("goroutine 2" in note and failing.__qualname__ in note for note in notes), notes
    assert not any("goroutine 1" in note for note in notes), notes


def test_exception_keeps_notes_added_by_the_user() -> None:
    def main() -> None:
        exc = RuntimeError("x")
        exc.add_note("user note")
        raise exc

    with pytest.raises(RuntimeError) as info:
        run(main)
    assert info.value.__notes__[0] == "user note"
    assert len(info.value.__notes__) == 2


def test_exception_escapes_with_its_traceback() -> None:
    def deep() -> None:
        raise LookupError("here")

    def main() -> None:
        deep()

    with pytest.raises(LookupError) as info:
        run(main)
    names = [entry.name for entry in info.traceback]
    assert "deep" in names and "main" in names


def test_base_exception_in_main_is_reraised() -> None:
    def main() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(main)


@pytest.mark.allow_goroutine_leaks
def test_exception_in_goroutine_abandons_main() -> None:
    after = []

    def main() -> None:
        go(failing)
        gtime.sleep(0.2)
        after.append("main resumed")  # must never run: the run ended

    def failing() -> None:
        raise ValueError("stop")

    with pytest.raises(ValueError):
        run(main)
    time.sleep(0.3)  # timing is the point: main's timer would have fired by now
    assert after == []


# ---- main returning abandons the others ------------------------------------------------


@pytest.mark.allow_goroutine_leaks
def test_run_returns_as_soon_as_main_returns_despite_blocked_goroutines() -> None:
    def main() -> str:
        go(nilchan.recv)
        go(Chan().recv)
        go(Chan().send, 1)
        go(select)
        go(gtime.sleep, 30)
        return "done"

    start = time.monotonic()
    assert run(main) == "done"
    assert time.monotonic() - start < 5.0  # the 30 s sleeper must not be waited for


@pytest.mark.allow_goroutine_leaks
def test_goroutines_not_yet_started_never_run_after_main_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without preemption, main never lets its one worker go, so none of the
    # goroutines has started when it returns. (With it, on a slow machine,
    # main could be preempted in its loop and some would run before it
    # returned, which is right, but not what this test is about.)
    monkeypatch.setenv("GODEBUG", "asyncpreemptoff=1")
    ran = []

    def main() -> None:
        for i in range(100):
            go(ran.append, i)

    run(main, gomaxprocs=1)
    time.sleep(0.05)  # timing is the point: nothing may run after run returned
    assert ran == []


@pytest.mark.allow_goroutine_leaks
def test_sleeping_goroutines_never_resume_after_main_returns() -> None:
    woke = []

    def sleeper() -> None:
        gtime.sleep(0.02)
        woke.append(1)

    def main() -> None:
        go(sleeper)
        runtime.gosched()

    run(main)
    time.sleep(0.2)  # timing is the point: the sleeper's timer is long due
    assert woke == []


# ---- one run at a time -----------------------------------------------------------------


def test_nested_run_raises_runtime_error() -> None:
    inner_ran = []

    def main() -> str:
        with pytest.raises(RuntimeError):
            run(inner_ran.append, 1)
        return "outer finished"

    assert run(main) == "outer finished"
    assert inner_ran == []


def test_nested_run_from_a_goroutine_raises_runtime_error() -> None:
    def attempt(out: Chan[BaseException | None]) -> None:
        try:
            run(lambda: None)
        except RuntimeError as exc:
            out.send(exc)
        else:
            out.send(None)

    def main() -> BaseException | None:
        out: Chan[BaseException | None] = Chan()
        go(attempt, out)
        received = out.recv()
        verify_none()  # the goroutines it started have finished
        return received

    assert isinstance(run(main), RuntimeError)


def test_run_from_another_thread_while_one_is_active_raises_runtime_error(start_thread) -> None:
    inner_ran = []

    def other_thread(out: Chan[object]) -> None:
        try:
            run(inner_ran.append, 1)
        except RuntimeError as exc:
            out.send(exc)
        else:
            out.send("no error")

    def main() -> object:
        out: Chan[object] = Chan()
        start_thread(other_thread, out)
        return recv_within(out)

    assert isinstance(run(main), RuntimeError)
    assert inner_ran == []


def test_run_can_be_called_again_after_it_returned() -> None:
    assert [run(lambda i=i: i * i) for i in range(5)] == [0, 1, 4, 9, 16]


def test_run_can_be_called_again_after_an_exception() -> None:
    def main() -> None:
        raise ValueError

    with pytest.raises(ValueError):
        run(main)
    assert run(lambda: "again") == "again"


@pytest.mark.allow_goroutine_leaks
def test_run_can_be_called_again_after_a_deadlock() -> None:
    with pytest.raises(DeadlockError):
        run(select)
    assert run(lambda: "again") == "again"


def test_run_can_be_called_from_another_thread_after_the_first_returned() -> None:
    assert run(lambda: 1) == 1
    results = []
    thread = threading.Thread(target=lambda: results.append(run(threading.get_ident, gomaxprocs=1)))
    thread.start()
    thread.join(10)
    assert results == [thread.ident]


# ---- go outside run: the background runtime --------------------------------------------


def test_go_outside_run_uses_a_background_runtime(python) -> None:
    returncode, out, err = python(
        """
        import goroutines
        from goroutines import Chan, go

        results = Chan()

        def double(x):
            results.send(2 * x)

        def failing():
            results.send("failing started")
            raise ValueError("boom from the background")

        go(double, 21)
        print(results.recv())
        go(failing)
        print(results.recv())
        # One processor: failing finishes (printing its traceback) before this runs.
        go(double, 1)
        print(results.recv())
        try:
            go(42)
        except TypeError:
            print("TypeError")
        print("carried on")
        """,
        env={"GOMAXPROCS": "1"},
    )
    assert returncode == 0, err
    assert out.splitlines() == ["42", "failing started", "2", "TypeError", "carried on"]
    assert "Traceback (most recent call last)" in err
    assert "ValueError: boom from the background" in err
    assert "failing" in err


def test_go_from_a_plain_thread_while_a_run_is_active_uses_the_background_runtime(
    start_thread,
) -> None:
    def from_thread(out: Chan[int]) -> None:
        reply: Chan[int] = Chan()
        go(lambda: reply.send(threading.get_ident()))
        out.send(reply.recv())

    def main() -> tuple[int, int]:
        out: Chan[int] = Chan()
        start_thread(from_thread, out)
        return recv_within(out), threading.get_ident()

    goroutine_thread, main_thread = run(main, gomaxprocs=1)
    assert goroutine_thread != main_thread


# ---- gomaxprocs= -----------------------------------------------------------------------


@pytest.mark.parametrize("procs", [1, 2, 3])
def test_gomaxprocs_option_sets_the_processors_of_this_run(procs: int) -> None:
    assert run(runtime.gomaxprocs, gomaxprocs=procs) == procs


def test_gomaxprocs_option_applies_to_this_run_only() -> None:
    before = runtime.gomaxprocs()
    other = 2 if before != 2 else 3
    assert run(runtime.gomaxprocs, gomaxprocs=other) == other
    assert runtime.gomaxprocs() == before
    assert run(runtime.gomaxprocs) == before


def test_gomaxprocs_1_runs_every_goroutine_on_the_calling_thread() -> None:
    def report(out: Chan[int]) -> None:
        out.send(threading.get_ident())

    def main() -> set[int]:
        out: Chan[int] = Chan()
        for _ in range(20):
            go(report, out)
        return {out.recv() for _ in range(20)}

    assert run(main, gomaxprocs=1) == {threading.get_ident()}


def test_gomaxprocs_2_runs_goroutines_on_two_threads_at_once() -> None:
    # Each goroutine blocks its OS thread on a barrier for two parties: both can
    # only get through if they run on two different worker threads at once.
    barrier = threading.Barrier(2, timeout=10)

    def meet(out: Chan[int]) -> None:
        barrier.wait()
        out.send(threading.get_ident())

    def main() -> set[int]:
        out: Chan[int] = Chan()
        go(meet, out)
        go(meet, out)
        returned = {out.recv(), out.recv()}
        verify_none()  # the goroutines it started have finished
        return returned

    assert len(run(main, gomaxprocs=2)) == 2


@pytest.mark.parametrize("bad", [0, -1])
def test_gomaxprocs_option_below_one_raises_value_error(bad: int) -> None:
    with pytest.raises(ValueError):
        run(lambda: None, gomaxprocs=bad)


def test_gomaxprocs_option_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        run(lambda: None, gomaxprocs=1.5)  # type: ignore[arg-type]


def test_goroutines_run_concurrently_with_main() -> None:
    # A chain of hand-offs between main and a goroutine: only works if both run.
    def echo(ping: Chan[int], pong: Chan[int]) -> None:
        for value in ping:
            pong.send(value + 1)

    def main() -> int:
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()
        go(echo, ping, pong)
        value = 0
        for _ in range(1000):
            ping.send(value)
            value = pong.recv()
        ping.close()
        verify_none()  # the goroutines it started have finished
        return value

    assert run(main) == 1000


def _worker_threads() -> int:
    return sum(t.name.startswith("goroutines-worker") for t in threading.enumerate())


def test_run_returns_after_its_worker_threads_ended() -> None:
    """Worker threads are daemons: one still freeing greenlets while the
    interpreter shuts down would crash it, so run waits for them."""
    before = _worker_threads()

    def main() -> None:
        group = WaitGroup()
        for _ in range(10_000):
            group.go(lambda: None)
        group.wait()

    run(main, gomaxprocs=3)
    assert _worker_threads() == before


@pytest.mark.allow_goroutine_leaks  # abandons goroutines stuck on a worker on purpose
def test_run_does_not_wait_long_for_a_worker_stuck_in_a_goroutine() -> None:
    release = threading.Event()
    caller = threading.get_ident()

    def main() -> None:
        landed: Chan[bool] = Chan()

        def stuck() -> None:
            if threading.get_ident() == caller:  # on main's worker: let main go on
                landed.send(False)
                return
            landed.send(True)
            release.wait(PATIENCE)  # blocks its worker's thread, never parks

        for _ in range(100):
            for _ in range(8):
                go(stuck)
            busy_until = time.monotonic() + 0.005
            while time.monotonic() < busy_until:  # hold this worker: the other steals
                pass
            if any([landed.recv() for _ in range(8)]):
                return
        raise AssertionError("no goroutine ever ran on the second worker")

    start = time.monotonic()
    try:
        run(main, gomaxprocs=2)
        elapsed = time.monotonic() - start
    finally:
        release.set()
    assert elapsed < PATIENCE / 2


def test_signals_wake_the_main_threads_worker_during_a_run() -> None:
    """A signal must interrupt the worker's wait in its poller even if it lands
    just before the wait starts: run installs a wake-up fd, and restores the
    previous one when it returns."""

    def main() -> int:
        fd = signal.set_wakeup_fd(-1)
        signal.set_wakeup_fd(fd)
        return fd

    assert signal.set_wakeup_fd(-1) == -1
    assert run(main) >= 0
    assert signal.set_wakeup_fd(-1) == -1
