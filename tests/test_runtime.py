"""``goroutines.runtime``: gomaxprocs, num_cpu, num_goroutine, gosched, stack."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time

import pytest
from conftest import PATIENCE, created_by, parse_stack, wait_until_blocked

import goroutines.time as gtime
from goroutines import Chan, go, nilchan, run, runtime, select
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(30)


def on_two_threads_at_once() -> bool:
    """From a goroutine: can two new goroutines run on two threads at once now?"""
    barrier = threading.Barrier(2, timeout=PATIENCE)
    done: Chan[bool] = Chan()

    def meet() -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            done.send(False)
        else:
            done.send(True)

    go(meet)
    go(meet)
    return all([done.recv(), done.recv()])


# ---- gomaxprocs --------------------------------------------------------------------------


@pytest.mark.parametrize("procs", [1, 2, 4])
def test_gomaxprocs_reports_the_processors_of_the_run(procs: int) -> None:
    assert run(runtime.gomaxprocs, gomaxprocs=procs) == procs


def test_gomaxprocs_inside_run_sets_and_returns_the_previous_value() -> None:
    def main() -> list[int]:
        return [runtime.gomaxprocs(2), runtime.gomaxprocs(), runtime.gomaxprocs(1)]

    assert run(main, gomaxprocs=1) == [1, 2, 2]


def test_gomaxprocs_raised_inside_run_adds_a_thread_at_once() -> None:
    def main() -> bool:
        runtime.gomaxprocs(2)
        returned = on_two_threads_at_once()
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=1)


def test_gomaxprocs_lowered_inside_run_keeps_every_goroutine_running() -> None:
    def main() -> int:
        results: Chan[int] = Chan()
        ping: Chan[int] = Chan()

        def echo() -> None:
            for value in ping:
                results.send(value)

        go(echo)
        ping.send(1)
        first = results.recv()
        runtime.gomaxprocs(1)  # echo may have started on the worker that retires
        ping.send(2)
        second = results.recv()
        ping.close()
        returned = first + second + runtime.gomaxprocs()
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=2) == 1 + 2 + 1


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_a_retired_worker_thread_exits_without_an_unraisable_error(python) -> None:
    # When a thread that ran greenlets exits, greenlet cleans up after it in a
    # pending call that the main thread runs in whatever frame it is in. While
    # a worker kept its thread's main greenlet, that cleanup imported gc there,
    # through that frame's builtins; in a frame without __import__ (as a
    # namedtuple's __new__) it printed "KeyError: '__import__'" (seen on 3.13t).
    # Main waits in such a frame until the retired worker's thread is gone.
    returncode, out, err = python(
        """
        import os, time
        from goroutines import go, run, runtime
        from goroutines.sync import WaitGroup

        WAIT_IN_A_FRAME_WITHOUT_IMPORT = '''
        while len(listdir("/proc/self/task")) > threads:
            if monotonic() > deadline:
                raise TimeoutError("the retired worker's thread is still there")
        for _ in range(100_000):
            pass
        '''

        def main():
            for _ in range(20):
                threads = len(os.listdir("/proc/self/task"))
                runtime.gomaxprocs(2)
                wg = WaitGroup()
                for _ in range(8):
                    wg.add(1)
                    go(wg.done)
                wg.wait()
                runtime.gomaxprocs(1)  # the second worker retires: its thread exits
                exec(WAIT_IN_A_FRAME_WITHOUT_IMPORT, {
                    "__builtins__": {}, "len": len, "listdir": os.listdir, "range": range,
                    "threads": threads, "monotonic": time.monotonic,
                    "deadline": time.monotonic() + 10, "TimeoutError": TimeoutError,
                })

        run(main, gomaxprocs=1)
        print("ok")
        """
    )
    assert (returncode, out, err) == (0, "ok\n", "")


def test_gomaxprocs_set_inside_run_does_not_outlive_it() -> None:
    before = runtime.gomaxprocs()
    run(runtime.gomaxprocs, 3)
    assert runtime.gomaxprocs() == before


def test_gomaxprocs_outside_run_sets_the_start_value_of_later_runs() -> None:
    original = runtime.gomaxprocs()
    try:
        assert runtime.gomaxprocs(3) == original
        assert runtime.gomaxprocs() == 3
        assert run(runtime.gomaxprocs) == 3
    finally:
        runtime.gomaxprocs(original)
    assert runtime.gomaxprocs() == original


@pytest.mark.parametrize("n", [0, -1])
def test_gomaxprocs_below_one_only_reports(n: int) -> None:
    before = runtime.gomaxprocs()
    assert runtime.gomaxprocs(n) == before
    assert runtime.gomaxprocs() == before
    assert run(lambda: (runtime.gomaxprocs(n), runtime.gomaxprocs()), gomaxprocs=2) == (2, 2)


@pytest.mark.parametrize("value", ["1", "2", "3"])
def test_gomaxprocs_environment_variable_sets_the_start_value(python, value: str) -> None:
    returncode, out, err = python(
        """
        from goroutines import run, runtime
        print(runtime.gomaxprocs(), run(runtime.gomaxprocs))
        """,
        env={"GOMAXPROCS": value},
    )
    assert returncode == 0, err
    assert out.split() == [value, value]


@pytest.mark.parametrize("value", [None, "", "0", "-2", "many"])
def test_gomaxprocs_default_is_one_with_a_gil_else_num_cpu(python, value: str | None) -> None:
    # Without a valid GOMAXPROCS (Go ignores invalid values), the default:
    # num_cpu() on a free-threaded build, 1 on a build with a GIL.
    returncode, out, err = python(
        """
        import sys
        from goroutines import runtime
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        print(runtime.gomaxprocs(), 1 if gil else runtime.num_cpu())
        """,
        env={"GOMAXPROCS": value},
    )
    assert returncode == 0, err
    actual, expected = out.split()
    assert actual == expected


# ---- num_cpu -------------------------------------------------------------------------------


def test_num_cpu_counts_the_cpus_this_process_may_use() -> None:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert runtime.num_cpu() == usable
    assert runtime.num_cpu() >= 1


# ---- num_goroutine -----------------------------------------------------------------------


def wait_for_goroutine_count(count: int) -> int:
    """Yield until ``num_goroutine()`` is ``count`` (finishing ones may linger a moment)."""
    deadline = time.monotonic() + PATIENCE
    while runtime.num_goroutine() != count and time.monotonic() < deadline:
        gtime.sleep(0.001)
    return runtime.num_goroutine()


def test_num_goroutine_is_one_in_a_fresh_main() -> None:
    assert run(runtime.num_goroutine) == 1


def test_num_goroutine_counts_started_blocked_and_new_goroutines() -> None:
    def main() -> list[int]:
        release: Chan[None] = Chan()
        done: Chan[None] = Chan()

        def blocked() -> None:
            release.recv()
            done.send(None)

        counts = [runtime.num_goroutine()]
        for _ in range(10):
            go(blocked)
        counts.append(runtime.num_goroutine())  # not started yet: they count too
        wait_until_blocked(10, "chan receive")
        counts.append(runtime.num_goroutine())
        release.close()
        for _ in range(10):
            done.recv()
        counts.append(wait_for_goroutine_count(1))
        return counts

    assert run(main) == [1, 11, 11, 1]


@pytest.mark.allow_goroutine_leaks
def test_num_goroutine_of_a_new_run_does_not_count_abandoned_goroutines() -> None:
    def first() -> None:
        for _ in range(5):
            go(nilchan.recv)

    run(first)
    assert run(runtime.num_goroutine) == 1


# ---- gosched -----------------------------------------------------------------------------


def test_gosched_lets_a_new_goroutine_run() -> None:
    # With one processor, go f(); Gosched() runs f before the caller resumes.
    def main() -> list[int]:
        ran: list[int] = []
        go(ran.append, 1)
        runtime.gosched()
        return ran

    assert run(main, gomaxprocs=1) == [1]


def test_gosched_in_a_spin_loop_does_not_starve_a_new_goroutine() -> None:
    def main() -> bool:
        flag: list[int] = []
        go(flag.append, 1)
        for _ in range(10_000):
            if flag:
                return True
            runtime.gosched()
        return False

    assert run(main, gomaxprocs=1)


@pytest.mark.parametrize("warmup", [0, 1, 2, 3])
def test_gosched_alternates_two_busy_goroutines_on_one_processor(warmup: int) -> None:
    # As in Go with GOMAXPROCS=1: each gosched lets the other goroutine run.
    # ``warmup`` switches first, so that no scheduler phase can make it pass by luck.
    def main() -> str:
        for _ in range(warmup):
            go(int)  # a goroutine that returns at once
            runtime.gosched()
        trace: list[str] = []
        done: Chan[None] = Chan()

        def busy(name: str) -> None:
            for _ in range(5):
                trace.append(name)
                runtime.gosched()
            done.send(None)

        go(busy, "a")
        go(busy, "b")
        done.recv()
        done.recv()
        returned = "".join(trace)
        verify_none()  # the goroutines it started have finished
        return returned

    trace = run(main, gomaxprocs=1)
    assert sorted(trace) == sorted("aaaaabbbbb")
    assert all(x != y for x, y in itertools.pairwise(trace)), trace


def test_gosched_in_main_with_nothing_else_to_run_returns() -> None:
    def main() -> str:
        for _ in range(100):
            runtime.gosched()
        return "ok"

    assert run(main) == "ok"


def test_gosched_outside_run_returns() -> None:
    runtime.gosched()


# ---- stack ---------------------------------------------------------------------------------

# Each blocker records the line of its blocking call in LINES, then blocks.
LINES: dict[str, int] = {}


def blocked_in_recv(ch: Chan[int]) -> None:
    LINES["chan receive"] = sys._getframe().f_lineno + 1
    ch.recv()


def blocked_in_recv_ok(ch: Chan[int]) -> None:
    LINES["chan receive (recv_ok)"] = sys._getframe().f_lineno + 1
    ch.recv_ok()


def blocked_in_iteration(ch: Chan[int]) -> None:
    LINES["chan receive (for)"] = sys._getframe().f_lineno + 1
    for _ in ch:
        pass


def blocked_in_send(ch: Chan[int]) -> None:
    LINES["chan send"] = sys._getframe().f_lineno + 1
    ch.send(1)


def blocked_in_select(ch: Chan[int]) -> None:
    LINES["select"] = sys._getframe().f_lineno + 1
    select(ch.recv, (Chan().send, 1))


def blocked_in_select_with_timeout(ch: Chan[int]) -> None:
    LINES["select (timeout)"] = sys._getframe().f_lineno + 1
    select(ch.recv, gtime.after(30).recv)


def blocked_in_empty_select(ch: Chan[int]) -> None:
    LINES["select (no cases)"] = sys._getframe().f_lineno + 1
    select()


def blocked_in_nil_recv(ch: Chan[int]) -> None:
    LINES["chan receive (nil chan)"] = sys._getframe().f_lineno + 1
    nilchan.recv()


def blocked_in_nil_send(ch: Chan[int]) -> None:
    LINES["chan send (nil chan)"] = sys._getframe().f_lineno + 1
    nilchan.send(1)


def blocked_in_sleep(ch: Chan[int]) -> None:
    LINES["sleep"] = sys._getframe().f_lineno + 1
    gtime.sleep(30)


BLOCKERS = {
    "chan receive": (blocked_in_recv, "chan receive"),
    "chan receive (recv_ok)": (blocked_in_recv_ok, "chan receive"),
    "chan receive (for)": (blocked_in_iteration, "chan receive"),
    "chan send": (blocked_in_send, "chan send"),
    "select": (blocked_in_select, "select"),
    "select (timeout)": (blocked_in_select_with_timeout, "select"),
    "select (no cases)": (blocked_in_empty_select, "select (no cases)"),
    "chan receive (nil chan)": (blocked_in_nil_recv, "chan receive (nil chan)"),
    "chan send (nil chan)": (blocked_in_nil_send, "chan send (nil chan)"),
    "sleep": (blocked_in_sleep, "sleep"),
}


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("case", list(BLOCKERS))
def test_stack_shows_go_wait_reasons_and_where_goroutines_block(case: str) -> None:
    blocker, reason = BLOCKERS[case]

    def main() -> str:
        go(blocker, Chan())
        wait_until_blocked(1, reason)
        return runtime.stack()

    dump = run(main)
    blocks = {gid: block for gid, (why, block) in parse_stack(dump).items() if why == reason}
    assert len(blocks) == 1, dump
    ((gid, block),) = blocks.items()
    assert gid > 1
    assert blocker.__name__ in block
    assert f"test_runtime.py:{LINES[case]}" in block, block
    assert created_by(block, main.__qualname__, 1), block


def test_stack_shows_the_caller_as_running_with_its_own_line() -> None:
    def main() -> tuple[str, int]:
        line = sys._getframe().f_lineno + 1
        return runtime.stack(), line

    dump, line = run(main)
    goroutines = parse_stack(dump)
    assert goroutines[1][0] == "running"
    block = goroutines[1][1]
    assert block.startswith("goroutine 1 [running]:\n")
    assert main.__qualname__ in block
    assert f"test_runtime.py:{line}" in block, block


@pytest.mark.allow_goroutine_leaks  # the dumped goroutines are left blocked
def test_stack_lists_frames_innermost_call_last() -> None:
    def outer_function(ch: Chan[int]) -> None:
        inner_function(ch)

    def inner_function(ch: Chan[int]) -> None:
        ch.recv()

    def main() -> str:
        ch: Chan[int] = Chan()
        go(outer_function, ch)
        wait_until_blocked(1, "chan receive")
        dump = runtime.stack()
        ch.send(1)
        return dump

    dump = run(main)
    (block,) = [b for why, b in parse_stack(dump).values() if why == "chan receive"]
    assert 0 <= block.index("outer_function") < block.index("inner_function"), block


@pytest.mark.allow_goroutine_leaks  # the dumped goroutines are left blocked
def test_stack_shows_goroutines_not_yet_started_as_runnable_in_creation_order() -> None:
    def first() -> None:
        pass

    def second() -> None:
        pass

    def main() -> str:
        go(first)
        go(second)
        return runtime.stack()  # one processor: neither has run yet

    goroutines = parse_stack(run(main, gomaxprocs=1))
    assert sorted(goroutines) == [1, 2, 3]
    assert [goroutines[2][0], goroutines[3][0]] == ["runnable", "runnable"]
    assert "first" in goroutines[2][1]
    assert "second" in goroutines[3][1]
    assert created_by(goroutines[3][1], main.__qualname__, 1)


@pytest.mark.allow_goroutine_leaks  # the dumped goroutines are left blocked
def test_stack_lists_goroutines_in_id_order() -> None:
    def main() -> str:
        for _ in range(5):
            go(Chan().recv)
        wait_until_blocked(5, "chan receive")
        return runtime.stack()

    dump = run(main)
    ids = [int(line.split()[1]) for line in dump.splitlines() if line.startswith("goroutine ")]
    assert ids == sorted(ids)
    assert len(ids) == 6


@pytest.mark.allow_goroutine_leaks  # the dumped goroutines are left blocked
def test_stack_names_the_goroutine_that_created_each_one() -> None:
    def grandchild() -> None:
        Chan().recv()

    def child(ids: Chan[int]) -> None:
        go(grandchild)
        ids.send(0)
        select()

    def main() -> str:
        ids: Chan[int] = Chan()
        go(child, ids)
        ids.recv()
        wait_until_blocked(1, "chan receive")
        wait_until_blocked(1, "select (no cases)")
        return runtime.stack()

    goroutines = parse_stack(run(main))
    (child_id,) = [gid for gid, (why, _) in goroutines.items() if why == "select (no cases)"]
    (grandchild_block,) = [block for why, block in goroutines.values() if why == "chan receive"]
    assert created_by(grandchild_block, child.__qualname__, child_id)


def test_stack_leaves_out_finished_goroutines() -> None:
    def main() -> str:
        done: Chan[None] = Chan()
        for _ in range(3):
            go(done.send, None)
        for _ in range(3):
            done.recv()
        wait_for_goroutine_count(1)
        return runtime.stack()

    assert sorted(parse_stack(run(main))) == [1]


def test_stack_outside_run_describes_the_background_runtime(python) -> None:
    returncode, out, err = python(
        """
        import time
        from goroutines import Chan, go, nilchan, runtime

        print(repr(runtime.stack()), runtime.num_goroutine())
        go(Chan().recv)
        done = Chan()
        go(done.send, "finished")
        print(done.recv())
        deadline = time.monotonic() + 10
        while "[chan receive]" not in runtime.stack():
            assert time.monotonic() < deadline, runtime.stack()
            time.sleep(0.001)
        while runtime.num_goroutine() != 1:
            assert time.monotonic() < deadline, runtime.num_goroutine()
            time.sleep(0.001)
        print(runtime.num_goroutine())
        print(runtime.stack())
        """
    )
    assert returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "'' 0"
    assert lines[1:3] == ["finished", "1"]
    assert any(
        line.startswith("goroutine ") and line.endswith(" [chan receive]:") for line in lines[3:]
    ), out
