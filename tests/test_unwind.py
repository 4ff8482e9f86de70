"""Ctrl-C: a run that ends with KeyboardInterrupt unwinds its goroutines.

Their ``finally`` and ``with`` blocks run (``GreenletExit`` is raised where
each waits), so they release sockets, files and locks; then ``run`` raises
the KeyboardInterrupt. Any other exception still abandons them, as Go does.
The last tests send a real SIGINT to a program with thousands of goroutines
parked on sockets, run directly and under ``goroutines run``.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PATIENCE, recv_within, wait_until_blocked
from greenlet import GreenletExit

import goroutines
import goroutines.time as gtime
from goroutines import Chan, go, run, runtime, select, sync
from goroutines._runtime import sched
from goroutines.testing import LeakError, verify_none

goroutines.patch()

pytestmark = pytest.mark.timeout(60)


def cleaned_up(record: list[str], name: str, fn: Any, *args: Any) -> None:
    """``fn(*args)``, recording ``name`` in ``record`` on the way out, however."""
    try:
        fn(*args)
    finally:
        record.append(name)


# ---- unwinding in-process -------------------------------------------------------------------


def test_keyboard_interrupt_unwinds_every_goroutine_where_it_waits(procs: int) -> None:
    record: list[str] = []
    interrupt = KeyboardInterrupt()
    left, right = socket.socketpair()

    def spin() -> None:
        record.append("spinning")
        while True:
            runtime.gosched()

    def cond_wait(cond: sync.Cond) -> None:
        with cond.l:  # type: ignore[attr-defined]
            cond.wait()

    def main() -> None:
        mu = sync.Mutex()
        mu.lock()
        wg = sync.WaitGroup()
        wg.add(1)
        waits: dict[str, tuple[Any, ...]] = {
            "chan receive": (Chan().recv,),
            "chan send": (Chan().send, 1),
            "select": (select, Chan().recv, Chan().recv),
            "sync.Mutex.Lock": (mu.lock,),
            "sync.WaitGroup.Wait": (wg.wait,),
            "sync.Cond.Wait": (cond_wait, sync.Cond(sync.Mutex())),
            "sleep": (gtime.sleep, 3600),
            "IO wait": (left.recv, 1),
        }
        for name, (fn, *args) in waits.items():
            go(cleaned_up, record, name, fn, *args)
        go(cleaned_up, record, "runnable", spin)
        for reason in waits:
            wait_until_blocked(1, reason)
        while "spinning" not in record:
            runtime.gosched()
        try:
            raise interrupt
        finally:
            record.append("main")

    with left, right, pytest.raises(KeyboardInterrupt) as info:
        run(main, gomaxprocs=procs)
    assert info.value is interrupt
    assert sorted(record) == sorted(
        [
            "chan receive",
            "chan send",
            "select",
            "sync.Mutex.Lock",
            "sync.WaitGroup.Wait",
            "sync.Cond.Wait",
            "sleep",
            "IO wait",
            "spinning",
            "runnable",
            "main",
        ]
    )
    verify_none()  # nothing abandoned, no fd left registered


def test_keyboard_interrupt_in_another_goroutine_unwinds_main() -> None:
    record: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    def main() -> None:
        try:
            go(interrupt)
            Chan().recv()
        finally:
            record.append("main")

    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=2)
    assert record == ["main"]


def test_a_goroutine_that_waits_again_while_unwinding_gets_greenlet_exit_again(
    procs: int,
) -> None:
    raised: list[type[BaseException]] = []

    def stubborn(ch: Chan[int]) -> None:
        try:
            ch.recv()
        finally:
            try:
                ch.recv()  # blocks again, in its clean-up
            except BaseException as exc:
                raised.append(type(exc))
                raise

    def main() -> None:
        ch: Chan[int] = Chan()
        go(stubborn, ch)
        wait_until_blocked(1, "chan receive")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=procs)
    assert raised == [GreenletExit]


def test_goroutines_not_started_yet_are_dropped_without_running() -> None:
    ran: list[int] = []

    def main() -> None:
        for i in range(100):
            go(ran.append, i)
        raise KeyboardInterrupt  # gomaxprocs=1: none has started

    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=1)
    assert ran == []
    verify_none()


@pytest.mark.allow_goroutine_leaks
def test_a_second_keyboard_interrupt_stops_the_unwinding() -> None:
    record: list[str] = []

    def impatient(ch: Chan[int]) -> None:
        try:
            ch.recv()
        finally:
            record.append("impatient")
            raise KeyboardInterrupt  # Ctrl-C again, during the clean-up

    def main() -> None:
        ch: Chan[int] = Chan()
        go(impatient, ch)  # unwound before the next: goroutines go in creation order
        go(cleaned_up, record, "next", ch.recv)
        wait_until_blocked(2, "chan receive")
        raise KeyboardInterrupt("first")

    with pytest.raises(KeyboardInterrupt, match="first"):
        run(main, gomaxprocs=1)
    assert record == ["impatient"]
    with pytest.raises(LeakError, match="leaked: 1 goroutine"):
        verify_none()  # the one left is abandoned, as after any run


def test_run_waits_for_a_worker_thread_whose_clean_up_is_slow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # run waits only so long for a worker stuck in a goroutine, but a worker
    # that unwinds runs the program's clean-up, and that is waited for, as
    # long as it takes (here six times the limit for a stuck one).
    monkeypatch.setattr(sched, "_JOIN_TIMEOUT", 0.05)
    main_thread = threading.get_ident()
    record: list[str] = []

    def compute(seconds: float) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            pass

    def waiter(placed: Chan[bool]) -> None:
        off_main = threading.get_ident() != main_thread
        try:
            placed.send(off_main)
            if off_main:
                Chan().recv()
        finally:
            if off_main:
                if not record:  # the first one unwound takes its time
                    compute(0.3)
                record.append("cleaned up")

    def main() -> None:
        placed: Chan[bool] = Chan()
        for _ in range(100):  # until the other worker has started one
            for _ in range(8):
                go(waiter, placed)
            compute(0.02)  # busy here: the other worker steals some
            if sum(placed.recv() for _ in range(8)):
                break
        else:
            raise AssertionError("every goroutine ran on main's worker")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=2)
    assert record and set(record) == {"cleaned up"}
    verify_none()


@pytest.mark.allow_goroutine_leaks
def test_other_exceptions_still_abandon_the_goroutines(procs: int) -> None:
    record: list[str] = []

    def main() -> None:
        go(cleaned_up, record, "abandoned", Chan().recv)
        wait_until_blocked(1, "chan receive")
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        run(main, gomaxprocs=procs)
    assert record == []


def test_the_next_run_works_after_an_interrupted_one(procs: int) -> None:
    def main() -> None:
        go(Chan().recv)
        wait_until_blocked(1, "chan receive")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=procs)

    def again() -> int:
        ch: Chan[int] = Chan()
        go(ch.send, 7)
        return recv_within(ch)  # type: ignore[no-any-return]

    assert run(again, gomaxprocs=procs) == 7


# ---- a real SIGINT, thousands of goroutines parked on sockets -------------------------------

# The program: ``N`` socket pairs (``KIND``: socketpair(), or connections to a
# local TCP server), a goroutine reading each end, ``with`` the socket, and
# main waiting forever. Run directly (``MODE`` "run") it reports after run()
# raised; as the top level of ``goroutines run`` ("cli") it just waits.
PROGRAM = """\
import os
import resource
import signal
import socket
import sys

import goroutines
from goroutines import Chan, go, run
from goroutines._runtime import current_runtime
from goroutines.testing import verify_none

N, PROCS, KIND, MODE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
signal.signal(signal.SIGINT, signal.default_int_handler)  # a test runner may ignore it
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * N + 100)), hard))
goroutines.patch()


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def reader(sock):
    with sock:
        sock.recv(1)  # parks in IO wait until Ctrl-C


def pairs():
    if KIND == "socketpair":
        return [socket.socketpair() for _ in range(N)]
    made = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        for _ in range(N):
            client = socket.create_connection(server.getsockname())
            made.append((client, server.accept()[0]))
    return made


def parked_in_io():
    everyone = list(current_runtime().allg.values())
    return sum(g.wait_reason == "IO wait" and g.state == 2 for g in everyone)


def main():
    for left, right in pairs():
        go(reader, left)
        go(reader, right)
    while parked_in_io() < 2 * N:
        goroutines.time.sleep(0.01)
    print("parked", flush=True)
    Chan().recv()  # only Ctrl-C ends this


if MODE == "cli":
    main()
else:
    before = open_fds()
    try:
        run(main, gomaxprocs=PROCS)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
    print("open fds", before, open_fds(), flush=True)
    verify_none()
    print("no leaks", flush=True)
"""

N = 2000
# How long after SIGINT the program may take to unwind 2 * N goroutines
# (about 0.1-0.3 s here): generous, for a loaded machine.
PROMPTLY = 5.0


class Child:
    """A program started with its stdout read line by line on a thread, so
    that every read has a timeout."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")  # end of output

    def readline(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout}s") from None

    def finish(self) -> tuple[int, str, list[str]]:
        """Wait for the exit: (status, stderr, the rest of stdout)."""
        assert self.proc.stderr is not None
        status = self.proc.wait(PATIENCE)
        rest = []
        while (line := self.readline(PATIENCE)) != "":
            rest.append(line)
        return status, self.proc.stderr.read(), rest


@pytest.fixture
def child(tmp_path: Path) -> Iterator[Any]:
    script = tmp_path / "parked.py"
    script.write_text(PROGRAM)
    started: list[Child] = []

    def start(procs: str, kind: str, mode: str) -> Child:
        command = [sys.executable]
        if mode == "cli":
            command += ["-m", "goroutines", "run", "--gomaxprocs", procs]
        started.append(Child([*command, str(script), str(N), procs, kind, mode]))
        return started[-1]

    yield start
    for each in started:
        if each.proc.poll() is None:
            each.proc.kill()
        each.proc.wait(PATIENCE)
        for stream in (each.proc.stdout, each.proc.stderr):
            if stream is not None:
                stream.close()


def interrupt_when_parked(program: Child) -> float:
    """Send SIGINT once every goroutine is parked; return the time it was sent."""
    assert program.readline(PATIENCE * 6) == "parked\n"
    sent = time.monotonic()
    program.proc.send_signal(signal.SIGINT)
    return sent


skip_without_proc_fd = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd") or os.name == "nt", reason="counts fds in /proc"
)


@skip_without_proc_fd
@pytest.mark.parametrize("kind", ["socketpair", "tcp"])
@pytest.mark.parametrize("procs", ["1", "2"])
def test_sigint_unwinds_thousands_of_goroutines_parked_on_sockets(
    child: Any, procs: str, kind: str
) -> None:
    program = child(procs, kind, "run")
    sent = interrupt_when_parked(program)
    assert program.readline(PATIENCE) == "KeyboardInterrupt\n"
    took = time.monotonic() - sent
    status, err, rest = program.finish()
    assert (status, err) == (0, "")
    opened, left_open = (int(n) for n in rest[0].split()[2:])
    assert rest == [f"open fds {opened} {left_open}\n", "no leaks\n"]
    assert left_open == opened  # every socket closed, no poller left open
    assert took < PROMPTLY, f"run raised KeyboardInterrupt {took:.2f}s after SIGINT"


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("kind", ["socketpair", "tcp"])
@pytest.mark.parametrize("procs", ["1", "2"])
def test_sigint_under_goroutines_run_exits_130_promptly(child: Any, procs: str, kind: str) -> None:
    program = child(procs, kind, "cli")
    sent = interrupt_when_parked(program)
    status, err, rest = program.finish()
    took = time.monotonic() - sent
    assert (status, err, rest) == (130, "goroutines: interrupted\n", [])
    assert took < PROMPTLY, f"exited {took:.2f}s after SIGINT"
