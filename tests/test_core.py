"""The compiled channel core (``goroutines._core``, ``_core.c``) and its
Python reference (``_chan._PyChanCore``).

Every channel test of the suite runs with whichever is in use; ``.ci/run``
runs the suite once more with ``GOROUTINES_PURE=1``. Here: which one is in
use, the compiled lock and the core's checks, the fast paths' hand-offs
between goroutines of one worker and of two, and one program that must print
the same with both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import goroutines
from goroutines import Chan, _chan, _compiled, _core, go, run, runtime, select
from goroutines.sync import WaitGroup
from goroutines.testing import wait_blocked

pytestmark = pytest.mark.timeout(60)


def test_the_compiled_core_is_used_unless_pure_python_is_asked_for() -> None:
    if _compiled.PURE:
        assert not runtime.compiled
        assert Chan.__mro__[1] is _chan._PyChanCore
    else:
        assert runtime.compiled, "goroutines._core was not built (no C compiler?)"
        assert _compiled.core is not None
        assert Chan.__mro__[1] is _compiled.core.ChanCore
        assert type(Chan()._lock) is _compiled.core.Lock


def test_the_compiled_core_is_built_from_the_current_source() -> None:
    # An editable install builds the extension once: a later edit of the C
    # source is not in it until ``pip install -e .`` runs again. (Built, it
    # can be imported with GOROUTINES_PURE set too: only Chan does not use it.)
    built = _core.__file__
    source = Path(goroutines.__file__).with_name("_core.c")
    assert os.path.getmtime(built) >= os.path.getmtime(source), (
        f"{built} is older than {source}: run pip install -e . again"
    )


def test_the_compiled_lock() -> None:
    lock = _core.Lock()
    assert not lock.locked()
    assert lock.acquire() is True
    assert lock.locked()
    lock.release()
    with lock:
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(RuntimeError, match="release unlocked lock"):
        lock.release()
    with pytest.raises(TypeError, match="takes no arguments"):
        _core.Lock(1)  # type: ignore[call-arg]


def test_the_compiled_lock_excludes_other_threads() -> None:
    lock = _core.Lock()
    counts = [0]

    def add() -> None:
        for _ in range(20_000):
            with lock:
                counts[0] += 1  # a read and a write, apart: lost updates without the lock

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [80_000]


def test_a_channel_used_before_its_init_ran_raises() -> None:
    chan = Chan.__new__(Chan)
    with pytest.raises((TypeError, AttributeError)):
        chan.send(1)
    with pytest.raises((TypeError, AttributeError)):
        chan.recv()


@pytest.mark.parametrize("capacity", [0, 1, 3])
@pytest.mark.parametrize("procs", [1, 2])
def test_every_value_passes_once_in_order_between_goroutines(capacity: int, procs: int) -> None:
    # On one worker the fast paths hand values to and from goroutines of this
    # worker; on two, to and from the other's too (G.complete, from here).
    def main() -> list[int]:
        chan: Chan[int] = Chan(capacity)
        got: list[int] = []
        wg = WaitGroup()

        def produce() -> None:
            for i in range(2_000):
                chan.send(i)
            chan.close()

        wg.go(produce)
        got.extend(chan)
        wg.wait()
        return got

    assert run(main, gomaxprocs=procs) == list(range(2_000))


def test_a_select_waiting_in_the_queue_is_served_by_the_slow_path() -> None:
    # The compiled fast paths hand over only to a goroutine waiting as itself:
    # a select's case waits as a record of its own, which the slow path claims.
    def main() -> list[object]:
        a: Chan[int] = Chan()
        b: Chan[int] = Chan(1)
        results: Chan[tuple[int, object]] = Chan(2)

        def waiter() -> None:
            results.send(select(a.recv, b.recv))

        go(waiter)
        go(waiter)
        wait_blocked(a.recv, count=2)
        a.send(7)
        b.send(8)
        return sorted([results.recv(), results.recv()])  # type: ignore[type-var]

    assert run(main) == [(0, 7), (1, 8)]


PROGRAM = """
from goroutines import Chan, go, nilchan, run, runtime, select, default
from goroutines.sync import WaitGroup
from goroutines.testing import wait_blocked


def main():
    log = []
    unbuffered, buffered = Chan(), Chan(2)
    wg = WaitGroup()

    def echo(inp, out):
        for value in inp:
            out.send(value * 10)
        out.close()

    replies = Chan()
    wg.go(echo, unbuffered, replies)
    for i in range(3):
        unbuffered.send(i)
        log.append(replies.recv())
    unbuffered.close()
    log.append(replies.recv_ok())
    buffered.send(1)
    buffered.send(2)
    log.append((len(buffered), buffered.cap))
    log.append(select((buffered.send, 3), default))
    log.append([buffered.recv(), buffered.recv_ok()])
    buffered.close()
    log.append([buffered.recv_ok(), buffered.recv()])
    try:
        buffered.send(4)
    except Exception as exc:
        log.append(repr(exc))
    go(nilchan.recv)
    wait_blocked(nilchan.recv)
    stack = runtime.stack()
    log.append("[chan receive (nil chan)]" in stack)
    wg.wait()
    print(log)


run(main, gomaxprocs=1)
"""


def outputs(tmp_path: Path, *, pure: bool) -> tuple[int, str, str]:
    env = {**os.environ, "GOROUTINES_PURE": "1" if pure else ""}
    proc = subprocess.run(
        [sys.executable, "prog.py"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_a_program_prints_the_same_with_both(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    compiled, pure = outputs(tmp_path, pure=False), outputs(tmp_path, pure=True)
    assert compiled == pure, (compiled, pure)
    assert compiled[0] == 0, compiled
    expected = (
        "[0, 10, 20, (None, False), (2, 2), (1, None), [1, (2, True)], "
        "[(None, False), None], \"ClosedChannelError('send on closed channel')\", True]\n"
    )
    assert compiled[1] == expected, compiled
