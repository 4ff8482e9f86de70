"""Goroutine dumps: wait durations, and the dump printed on SIGQUIT.

The SIGQUIT programs run in a fresh interpreter, as Go's own tests run theirs:
the child gets its goroutines into place, prints ``ready``; the test sends
SIGQUIT, reads the dump from the child's stderr up to its last expected line,
then writes a line to the child's stdin, which lets it finish and print
``done``. Nothing waits by sleeping.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from conftest import PATIENCE, created_by, parse_stack, wait_until_blocked

from goroutines import Chan, go, run, runtime
from goroutines._runtime import current_runtime
from goroutines._runtime import monitor as monitor_module

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(signal, "SIGQUIT"), reason="no SIGQUIT on this platform"),
]

HEADER = "SIGQUIT: quit"

# ---- wait durations ------------------------------------------------------------------


def _parked_for(seconds: float) -> str:
    """The dump line of a goroutine that has waited ``seconds`` in a receive."""

    def main() -> str:
        ch: Chan[int] = Chan()
        done: Chan[None] = Chan()

        def receive() -> None:
            ch.recv()
            done.close()

        go(receive)
        wait_until_blocked(1, "chan receive")
        rt = current_runtime()
        assert rt is not None
        (g,) = (g for g in rt.allg.values() if g.id != 1)
        g.waiting_since -= seconds  # as if it had parked that long ago
        header = next(line for line in runtime.stack().splitlines() if "goroutine 2 " in line)
        ch.send(0)
        done.recv()
        return header

    return run(main)


def test_wait_shorter_than_a_minute_has_no_duration() -> None:
    assert _parked_for(59) == "goroutine 2 [chan receive]:"


def test_wait_of_a_minute_says_1_minutes_as_go_does() -> None:
    assert _parked_for(61) == "goroutine 2 [chan receive, 1 minutes]:"


def test_wait_duration_is_in_whole_minutes() -> None:
    assert _parked_for(3 * 60 + 59) == "goroutine 2 [chan receive, 3 minutes]:"


def test_running_goroutine_has_no_duration() -> None:
    def main() -> str:
        return runtime.stack().splitlines()[0]

    assert run(main) == "goroutine 1 [running]:"


def test_a_woken_goroutine_is_runnable_until_it_runs() -> None:
    # Go's dump says [runnable] for a goroutine that was woken and has not run
    # yet; it used to keep showing what it had waited for.
    def main() -> tuple[str, str]:
        ch: Chan[int] = Chan()
        done: Chan[None] = Chan()
        go(lambda: (ch.recv(), done.close()))
        wait_until_blocked(1, "chan receive")
        before = parse_stack(runtime.stack())[2][0]
        ch.send(1)  # hands the value over and wakes it, without switching
        after = parse_stack(runtime.stack())[2][0]
        done.recv()
        return before, after

    assert run(main, gomaxprocs=1) == ("chan receive", "runnable")


# ---- the monitor's dump is a racy snapshot that never fails --------------------------


def test_dump_from_another_thread_while_goroutines_come_and_go() -> None:
    errors: list[BaseException] = []
    dumps = 0
    stop = threading.Event()

    def dump_loop(rt: object) -> None:
        nonlocal dumps
        try:
            while not stop.is_set():
                text = monitor_module.dump(rt)  # type: ignore[arg-type]
                assert "failed" not in text, text
                dumps += 1
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    def main() -> None:
        rt = current_runtime()
        thread = threading.Thread(target=dump_loop, args=(rt,), daemon=True)
        thread.start()
        done: Chan[None] = Chan(100)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline or dumps < 20:
            for _ in range(100):
                go(done.send, None)
            for _ in range(100):
                done.recv()
        stop.set()
        thread.join(PATIENCE)

    run(main)
    assert not errors, errors


# ---- SIGQUIT -------------------------------------------------------------------------

PRELUDE = """\
import linecache, os, resource, socket, sys, threading, time
from collections import Counter

import goroutines
import goroutines.time as gtime
from goroutines import Chan, go, run, runtime, select, sync

goroutines.patch()
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a SIGQUIT that kills leaves no core file


def wait_for(*reasons):
    # Return once the dump shows a goroutine parked in each of ``reasons``
    # (a reason listed twice: two goroutines), letting the others run meanwhile.
    need = Counter(reasons)
    while True:
        dump = runtime.stack()
        if all(dump.count(f"[{reason}]") >= n for reason, n in need.items()):
            return
        runtime.gosched()


def recv(ch):
    ch.recv()


def select2(a, b):
    select(a.recv, b.recv)


def lock(mu):
    mu.lock()


def sleep():
    gtime.sleep(3600)


def io_wait(sock):
    sock.recv(1)


def start_blocked():
    # One goroutine parked in each way: ids 2 to 6.
    mu = sync.Mutex()
    mu.lock()
    a, b = socket.socketpair()
    go(recv, Chan())
    go(select2, Chan(), Chan())
    go(lock, mu)
    go(sleep)
    go(io_wait, a)
    return (a, b)


BLOCKED = ["chan receive", "select", "sync.Mutex.Lock", "sleep", "IO wait"]


def ready_when(predicate):
    # A plain thread prints "ready" once predicate() holds. It polls: what it
    # waits for (the main thread entering a C call) cannot be waited on.
    def watch():
        while not predicate():
            time.sleep(0.001)
        print("ready", flush=True)

    threading.Thread(target=watch, daemon=True).start()


def main_thread_reads_stdin():
    # Whether the main thread is at a line that reads stdin (in a C call, or
    # about to make it: this thread holds the GIL while it looks).
    frame = sys._current_frames().get(threading.main_thread().ident)
    if frame is None:
        return False
    return "sys.stdin.readline()" in linecache.getline(frame.f_code.co_filename, frame.f_lineno)


def main_goroutine_in(reason):
    from goroutines._runtime import sched
    from goroutines._runtime.dump import status

    return status(sched._active.main) == reason


def stop_on_stdin():
    # A plain thread: the test writes a line once it has read the dump.
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    return stop
"""

# The reasons of goroutines 2 to 6, as PRELUDE's start_blocked parks them.
BLOCKED = {
    2: ("chan receive", "recv"),
    3: ("select", "select2"),
    4: ("sync.Mutex.Lock", "lock"),
    5: ("sleep", "sleep"),
    6: ("IO wait", "io_wait"),
}


class Child:
    """A program run in a fresh interpreter that the test talks to."""

    def __init__(self, tmp_path: Path, body: str, gomaxprocs: int) -> None:
        self.path = tmp_path / "prog.py"
        self.path.write_text(PRELUDE + textwrap.dedent(body))
        env = dict(os.environ, GOMAXPROCS=str(gomaxprocs), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )

    def line_of(self, marker: str) -> int:
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if marker in line:
                return number
        raise AssertionError(f"{marker!r} not in the program")

    def expect_ready(self) -> None:
        assert self.stdout.readline() == "ready\n", self.finish()

    def read_dump(self, last_id: int) -> str:
        """Send SIGQUIT and read stderr up to the end of goroutine ``last_id``'s
        block (its ``created by`` location line)."""
        self.proc.send_signal(signal.SIGQUIT)
        lines: list[str] = []
        in_last = False
        while True:
            line = self.stderr.readline()
            assert line, "stderr ended before the dump did:\n" + "".join(lines) + self.finish()
            lines.append(line)
            if line.startswith(f"goroutine {last_id} ["):
                in_last = True
            elif in_last and line.startswith("created by "):
                lines.append(self.stderr.readline())
                return "".join(lines)

    def finish(self) -> str:
        """Let the child end; return what else it wrote (for failure messages)."""
        try:
            out, err = self.proc.communicate("go\n", timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return f"\nstdout:\n{out}\nstderr:\n{err}"

    @property
    def stdout(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    @property
    def stderr(self) -> IO[str]:
        assert self.proc.stderr is not None
        return self.proc.stderr


@pytest.fixture(params=[1, 2], ids=["procs1", "procs2"])
def gomaxprocs(request: pytest.FixtureRequest) -> int:
    return request.param  # type: ignore[no-any-return]


# Without the GIL, a goroutine's stack is read by its own worker's thread (see
# goroutines/_runtime/stacks.py), between two goroutines. A worker running a
# goroutine that computes is made to pass there by preempting it: the dump
# shows that goroutine ``runnable``, at the line where it was preempted. One
# that cannot be preempted (in a C call) says so in Go's words, and the
# goroutines parked on its worker show their function instead of their frames.
GIL = getattr(sys, "_is_gil_enabled", lambda: True)()
UNAVAILABLE = "goroutine running on other thread; stack unavailable"
SPINNING = "running" if GIL else "runnable"  # a goroutine that computes, as dumped


def shows_frame(block: str, function: str) -> bool:
    return re.search(rf"^__main__\.{function}\(\.\.\.\)$", block, re.MULTILINE) is not None


def check_dump(child: Child, dump: str, main: str, spinner: tuple[int, str] | None) -> None:
    """The header, main's block, and a block for each of PRELUDE's blocked
    goroutines (and the spinner, if any) with its reason and creator."""
    assert dump.startswith(HEADER + "\n\n"), dump
    blocks = parse_stack(dump)
    assert blocks[1][0] == main, dump
    assert "created by" not in blocks[1][1], dump
    expected = {
        gid: (reason, function, "start_blocked") for gid, (reason, function) in BLOCKED.items()
    }
    if spinner is not None:
        expected[spinner[0]] = (SPINNING, spinner[1], "main")
    assert sorted(blocks) == [1, *sorted(expected)], dump
    for gid, (reason, function, creator) in expected.items():
        got_reason, block = blocks[gid]
        assert got_reason == reason, dump
        assert shows_frame(block, function), dump
        assert created_by(block, creator, 1), dump
    if GIL or UNAVAILABLE not in dump:  # else its worker may be the busy one
        assert f"{child.path}:{child.line_of('sock.recv(1)')}" in blocks[6][1], dump


def check_carried_on(child: Child) -> None:
    rest = child.finish()
    assert child.proc.returncode == 0, rest
    assert rest.startswith("\nstdout:\ndone\n"), rest


def test_sigquit_dumps_blocked_goroutines_and_a_spinning_one(
    tmp_path: Path, gomaxprocs: int
) -> None:
    child = Child(
        tmp_path,
        """
        def spin(stop, spun):
            wait_for("chan receive", *BLOCKED)  # main too
            print("ready", flush=True)
            while not stop.is_set():
                pass
            spun.close()


        def main():
            stop = stop_on_stdin()
            sockets = start_blocked()
            spun = Chan()
            go(spin, stop, spun)
            spun.recv()


        run(main)
        print("done")
        """,
        gomaxprocs,
    )
    child.expect_ready()
    dump = child.read_dump(last_id=7)
    check_dump(child, dump, "chan receive", spinner=(7, "spin"))
    check_carried_on(child)


def test_sigquit_while_main_spins_on_the_main_thread(tmp_path: Path, gomaxprocs: int) -> None:
    child = Child(
        tmp_path,
        """
        def main():
            stop = stop_on_stdin()
            sockets = start_blocked()
            wait_for(*BLOCKED)
            print("ready", flush=True)
            while not stop.is_set():
                pass


        run(main)
        print("done")
        """,
        gomaxprocs,
    )
    child.expect_ready()
    for _ in range(2):  # each SIGQUIT gets its dump
        dump = child.read_dump(last_id=6)
        check_dump(child, dump, SPINNING, spinner=None)
        assert shows_frame(parse_stack(dump)[1][1], "main"), dump
    check_carried_on(child)


def test_sigquit_while_main_thread_is_in_a_c_call(tmp_path: Path, gomaxprocs: int) -> None:
    child = Child(
        tmp_path,
        """
        def main():
            sockets = start_blocked()
            wait_for(*BLOCKED)
            ready_when(main_thread_reads_stdin)
            sys.stdin.readline()  # in read(): blocks the main thread and its worker


        run(main)
        print("done")
        """,
        gomaxprocs,
    )
    child.expect_ready()
    dump = child.read_dump(last_id=6)
    check_dump(child, dump, "running", spinner=None)
    main_block = parse_stack(dump)[1][1]
    if GIL:
        assert f":{child.line_of('# in read()')}" in main_block, dump
    else:
        assert main_block.splitlines()[1] == UNAVAILABLE, dump
    check_carried_on(child)


def test_sigquit_while_every_goroutine_waits_for_a_plain_thread(
    tmp_path: Path, gomaxprocs: int
) -> None:
    child = Child(
        tmp_path,
        """
        def main():
            sockets = start_blocked()
            wait_for(*BLOCKED)
            ch = Chan()

            def feed():
                sys.stdin.readline()
                ch.send(None)

            threading.Thread(target=feed, daemon=True).start()
            ready_when(lambda: main_goroutine_in("chan receive"))
            ch.recv()  # the feeding thread is alive: no deadlock


        run(main)
        print("done")
        """,
        gomaxprocs,
    )
    child.expect_ready()
    dump = child.read_dump(last_id=6)
    check_dump(child, dump, "chan receive", spinner=None)
    check_carried_on(child)


def test_sigquit_while_main_waits_for_a_thread_blocked_in_a_queue(
    tmp_path: Path, gomaxprocs: int
) -> None:
    # A thread blocked in queue.Queue.get() is alive and not in a goroutines
    # primitive: it may still send, so the run is not deadlocked, and the
    # dump shows main waiting for it.
    child = Child(
        tmp_path,
        """
        import queue

        def main():
            jobs, ch = queue.Queue(), Chan()
            threading.Thread(target=lambda: ch.send(jobs.get()), daemon=True).start()
            threading.Thread(target=lambda: jobs.put(sys.stdin.readline()), daemon=True).start()
            ready_when(lambda: main_goroutine_in("chan receive"))
            return ch.recv()  # until the test writes a line


        print(run(main).strip())
        """,
        gomaxprocs,
    )
    child.expect_ready()
    child.proc.send_signal(signal.SIGQUIT)
    where = f"prog.py:{child.line_of('return ch.recv()')}"
    dump = ""
    while where not in dump:
        line = child.stderr.readline()
        assert line, "stderr ended before the dump did:\n" + dump + child.finish()
        dump += line
    assert dump.startswith(f"{HEADER}\n\n"), dump
    assert list(parse_stack(dump)) == [1], dump
    assert parse_stack(dump)[1][0] == "chan receive", dump
    # Timing is the point here: ten grace periods of the deadlock detector
    # (50 ms) in which a false deadlock would end the program.
    time.sleep(0.5)
    out, err = child.proc.communicate("go\n", timeout=PATIENCE)
    assert child.proc.returncode == 0, out + err
    assert out.splitlines()[-1] == "go", out + err
    assert "deadlock" not in err, err


def test_sigquit_outside_a_run_keeps_its_default(tmp_path: Path) -> None:
    child = Child(
        tmp_path,
        """
        run(lambda: None)  # a run that has ended gave SIGQUIT back
        print("ready", flush=True)
        sys.stdin.readline()
        print("done")
        """,
        gomaxprocs=1,
    )
    child.expect_ready()
    child.proc.send_signal(signal.SIGQUIT)
    rest = child.finish()
    assert child.proc.returncode == -signal.SIGQUIT, rest
    assert HEADER not in rest, rest


def test_a_sigquit_that_comes_as_the_run_ends_is_not_swallowed(python) -> None:
    # The monitor may take a SIGQUIT from outside after stop() set _stopping
    # and before its own signal: it must pass it on, so that the process
    # still takes it (by default: quits) once the run has given SIGQUIT back.
    returncode, out, err = python(
        """
        import os, resource, subprocess
        from goroutines._runtime import monitor

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        m = monitor.start(None)
        with m._lock:
            m._stopping = True  # stop(), up to its own signal
        subprocess.run(["kill", "-QUIT", str(os.getpid())], check=True)
        m._thread.join(10)
        print("monitor gone:", not m._thread.is_alive(), flush=True)
        m._give_back()  # SIGQUIT's default again: the signal passed on quits now
        print("survived", flush=True)
        """
    )
    assert returncode == -signal.SIGQUIT, (out, err)
    assert out == "monitor gone: True\n", err


def test_run_gives_back_the_signal_mask_and_handler() -> None:
    if not hasattr(signal, "pthread_sigmask"):
        pytest.skip("no pthread_sigmask on this platform")
    handler = signal.getsignal(signal.SIGQUIT)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())

    def main() -> bool:
        during = signal.pthread_sigmask(signal.SIG_BLOCK, set())
        return signal.SIGQUIT in during

    assert run(main)
    assert signal.getsignal(signal.SIGQUIT) == handler
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == mask


def test_run_gives_back_sigquit_when_its_clean_up_raises(tmp_path: Path) -> None:
    # The trace is written as the run ends; writing it fails here. SIGQUIT
    # must be given back all the same: left blocked on the calling thread, it
    # would be blocked in every process started from it later.
    handler = signal.getsignal(signal.SIGQUIT)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    with pytest.raises(FileNotFoundError):
        run(lambda: None, trace=str(tmp_path / "no such directory" / "trace.json"))
    assert signal.getsignal(signal.SIGQUIT) == handler
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == mask
