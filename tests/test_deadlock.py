"""Deadlock detection, checked as Go checks it: run a small program in a fresh
interpreter and match its output.

Each program is written to a file (so that dumps show ``prog.py:LINE``) and
ends with ``report(main)``: it prints the ``DeadlockError`` message and exits
with status 2, or prints main's result and exits with 0.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from conftest import parse_stack, run_python

import goroutines
from goroutines import DeadlockError

pytestmark = pytest.mark.timeout(60)

HEADER = "all goroutines are asleep - deadlock!"

PRELUDE = """\
import sys, threading, time
import goroutines
import goroutines.time as gtime
from goroutines import Chan, DeadlockError, go, nilchan, run, select


def report(main):
    start = time.monotonic()
    try:
        result = run(main)
    except DeadlockError as exc:
        assert isinstance(exc, RuntimeError)
        print(exc)
        print(f"elapsed {time.monotonic() - start:.3f}", file=sys.stderr)
        sys.exit(2)
    print(result)
    print(f"elapsed {time.monotonic() - start:.3f}", file=sys.stderr)
"""


class Program:
    """The outcome of one program: status, output, and its dump parsed."""

    def __init__(self, path: Path, returncode: int, out: str, err: str) -> None:
        self.path = path
        self.returncode = returncode
        self.out = out
        self.err = err
        match = re.search(r"elapsed (\d+\.\d+)", err)
        self.elapsed = float(match.group(1)) if match else None
        self.goroutines = parse_stack(out)

    def line_of(self, marker: str) -> int:
        """The line number of the program line containing ``marker``."""
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if marker in line:
                return number
        raise AssertionError(f"{marker!r} not in the program")

    def reasons(self) -> list[str]:
        return [reason for _, (reason, _) in sorted(self.goroutines.items())]


@pytest.fixture(params=["1", "2"], ids=["procs1", "procs2"])
def program(request: pytest.FixtureRequest, tmp_path: Path):
    """Run a program body (after PRELUDE) with GOMAXPROCS 1 and 2."""

    def run_program(body: str, timeout: float = 30) -> Program:
        path = tmp_path / "prog.py"
        path.write_text(PRELUDE + "\n" + textwrap.dedent(body))
        returncode, out, err = run_python(
            f"exec(compile(open({str(path)!r}).read(), {str(path)!r}, 'exec'))",
            env={"GOMAXPROCS": request.param},
            timeout=timeout,
        )
        return Program(path, returncode, out, err)

    return run_program


def assert_deadlock(result: Program) -> None:
    assert result.returncode == 2, (result.out, result.err)
    lines = result.out.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == ""
    assert lines[2].startswith("goroutine 1 ["), result.out


# ---- deadlocks ------------------------------------------------------------------------


def test_empty_select_in_main_is_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            select()  # blocks here

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.reasons() == ["select (no cases) (leaked)"]
    block = result.goroutines[1][1]
    assert "main" in block
    assert f"prog.py:{result.line_of('# blocks here')}" in block, block


def test_nil_channel_recv_in_main_is_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            nilchan.recv()

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.reasons() == ["chan receive (nil chan) (leaked)"]


def test_nil_channel_send_in_main_is_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            nilchan.send(1)

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.reasons() == ["chan send (nil chan) (leaked)"]


def test_unmatched_send_on_unbuffered_channel_is_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            Chan().send(1)  # no receiver

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.reasons() == ["chan send (leaked)"]
    assert f"prog.py:{result.line_of('# no receiver')}" in result.goroutines[1][1]


def test_send_on_full_buffered_channel_is_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            ch = Chan(2)
            ch.send(1)
            ch.send(2)
            ch.send(3)

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.reasons() == ["chan send (leaked)"]


def test_goroutines_waiting_on_each_other_are_a_deadlock(program) -> None:
    result = program(
        """
        def first(a, b):
            a.recv()
            b.send(1)

        def second(a, b):
            b.recv()
            a.send(1)

        def main():
            a, b = Chan(), Chan()
            go(first, a, b)
            go(second, a, b)
            select(Chan().recv, nilchan.recv)

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.reasons() == [
        "select (leaked)",
        "chan receive (leaked)",
        "chan receive (leaked)",
    ]
    blocks = "".join(block for _, block in result.goroutines.values())
    assert "first" in blocks and "second" in blocks
    assert blocks.count("in goroutine 1") == 2


def test_deadlock_is_reported_once_the_last_timer_has_fired(program) -> None:
    result = program(
        """
        def main():
            go(gtime.sleep, 0.2)
            Chan().recv()

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.elapsed is not None and result.elapsed >= 0.2 - 1e-3


def test_stopped_timer_does_not_postpone_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            timer = gtime.Timer(30)
            timer.stop()
            select(timer.c.recv)

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.elapsed is not None and result.elapsed < 10


def test_plain_thread_that_has_not_used_goroutines_yet_keeps_the_detector_quiet(
    program,
) -> None:
    # The feeder does other work first: it touches no goroutines object for
    # 0.3 s, six grace periods, while main waits for it.
    result = program(
        """
        def feeder(ch):
            time.sleep(0.3)
            for i in range(100):
                ch.send(i)
            ch.close()

        def main():
            ch = Chan()
            threading.Thread(target=feeder, args=(ch,)).start()
            return sum(ch)

        report(main)
        """
    )
    assert result.returncode == 0, result.out + result.err
    assert result.out.strip() == str(sum(range(100)))


def test_deadlock_is_reported_once_a_plain_thread_that_never_used_goroutines_exits(
    program,
) -> None:
    result = program(
        """
        def main():
            threading.Thread(target=time.sleep, args=(0.3,)).start()
            select()

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.elapsed is not None and 0.3 - 1e-3 <= result.elapsed < 10


def test_the_runtimes_own_threads_do_not_keep_the_detector_quiet(program) -> None:
    # Idle blocking helpers, the background runtime's workers and the SIGQUIT
    # monitor are alive and not blocked in a goroutines primitive, but they
    # wake nobody by themselves.
    result = program(
        """
        def main():
            goroutines.blocking(lambda: None)  # leaves an idle helper thread
            done = Chan()
            thread = threading.Thread(target=go, args=(done.close,))  # background runtime
            thread.start()
            thread.join()
            done.recv()
            assert any(t.name == "goroutines-blocking" for t in threading.enumerate())
            select()

        report(main)
        """
    )
    assert_deadlock(result)


def test_plain_thread_blocked_in_a_channel_counts_as_asleep(program) -> None:
    result = program(
        """
        def main():
            ch = Chan()
            threading.Thread(target=ch.recv, daemon=True).start()
            select()

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.elapsed is not None and result.elapsed < 10


def test_deadlock_is_reported_after_the_last_plain_thread_that_could_send_exits(
    program,
) -> None:
    result = program(
        """
        used = threading.Event()

        def thread():
            Chan(1).send(None)  # it used a channel...
            used.set()
            time.sleep(0.2)  # ...and exits without sending anything

        def main():
            threading.Thread(target=thread).start()
            used.wait()
            Chan().recv()

        report(main)
        """
    )
    assert_deadlock(result)
    assert result.elapsed is not None and 0.2 - 1e-3 <= result.elapsed < 10


def test_deadlock_is_reported_once_the_background_runtime_goes_quiet(program) -> None:
    # A goroutine of the background runtime (started by go() on a plain
    # thread) sleeps: it might still wake main, so there is no deadlock yet.
    # Once it has finished, nothing can: the deadlock must then be reported.
    result = program(
        """
        def main():
            thread = threading.Thread(target=go, args=(gtime.sleep, 0.2))
            thread.start()
            thread.join()
            Chan().recv()

        report(main)
        """,
        timeout=5,
    )
    assert_deadlock(result)
    assert result.elapsed is not None and result.elapsed >= 0.2 - 1e-3


def test_deadlock_is_reported_once_a_plain_threads_timer_has_fired(program) -> None:
    result = program(
        """
        def main():
            thread = threading.Thread(target=gtime.after, args=(0.2,))
            thread.start()
            thread.join()
            Chan().recv()

        report(main)
        """,
        timeout=5,
    )
    assert_deadlock(result)
    assert result.elapsed is not None and result.elapsed >= 0.2 - 1e-3


def test_uncaught_deadlock_error_shows_the_message(python) -> None:
    returncode, _, err = python(
        """
        import goroutines
        goroutines.run(goroutines.select)
        """
    )
    assert returncode == 1
    assert f"DeadlockError: {HEADER}" in err
    assert "goroutine 1 [select (no cases) (leaked)]:" in err


@pytest.mark.allow_goroutine_leaks
def test_deadlock_error_is_a_runtime_error_with_a_dump() -> None:
    assert issubclass(DeadlockError, RuntimeError)
    with pytest.raises(DeadlockError) as info:
        goroutines.run(goroutines.select)
    lines = str(info.value).splitlines()
    assert lines[:3] == [HEADER, "", "goroutine 1 [select (no cases) (leaked)]:"]


# ---- not deadlocks ------------------------------------------------------------------------


def test_pending_sleep_is_not_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            gtime.sleep(0.1)
            return "slept"

        report(main)
        """
    )
    assert (result.returncode, result.out) == (0, "slept\n"), result.err


def test_pending_timer_is_not_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            ch = Chan()
            gtime.after_func(0.1, lambda: ch.send("late"))
            return ch.recv()

        report(main)
        """
    )
    assert (result.returncode, result.out) == (0, "late\n"), result.err


def test_timeout_case_is_not_a_deadlock(program) -> None:
    result = program(
        """
        def main():
            return select(Chan().recv, nilchan.recv, gtime.after(0.1).recv)[0]

        report(main)
        """
    )
    assert (result.returncode, result.out) == (0, "2\n"), result.err


def test_running_plain_thread_that_used_a_channel_is_not_a_deadlock(program) -> None:
    result = program(
        """
        used = threading.Event()

        def thread(ch):
            Chan(1).send(None)  # it used a channel (without blocking)
            used.set()
            time.sleep(0.2)
            ch.send(42)

        def main():
            ch = Chan()
            threading.Thread(target=thread, args=(ch,)).start()
            used.wait()
            return ch.recv()

        report(main)
        """
    )
    assert (result.returncode, result.out) == (0, "42\n"), result.err


def test_running_plain_thread_that_blocked_before_is_not_a_deadlock(program) -> None:
    result = program(
        """
        def thread(hello, ch):
            hello.send("hello")  # blocks until main takes it
            time.sleep(0.2)
            ch.send(42)

        def main():
            hello, ch = Chan(), Chan()
            threading.Thread(target=thread, args=(hello, ch)).start()
            select(hello.recv, gtime.after(10).recv)  # the timer keeps the detector quiet
            return ch.recv()

        report(main)
        """
    )
    assert (result.returncode, result.out) == (0, "42\n"), result.err


def test_goroutine_woken_by_a_plain_thread_select_is_not_a_deadlock(program) -> None:
    result = program(
        """
        used = threading.Event()

        def thread(ch):
            select(Chan().recv, goroutines.default)
            used.set()
            time.sleep(0.1)
            select((ch.send, "via select"))

        def main():
            ch = Chan()
            threading.Thread(target=thread, args=(ch,)).start()
            used.wait()
            return ch.recv()

        report(main)
        """
    )
    assert (result.returncode, result.out) == (0, "via select\n"), result.err
