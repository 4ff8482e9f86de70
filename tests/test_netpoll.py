"""The runtime's poller: goroutines waiting on file descriptors park only
themselves, wake when the fd is ready, at their deadline, or with an error when
another goroutine closes the fd; waits count as in flight for the deadlock check.

The waits are reached through the patched ``socket`` module, as users reach them.
"""

from __future__ import annotations

import os
import socket
import time

import pytest
from conftest import PATIENCE, recv_within, wait_reasons, wait_until_blocked

import goroutines
from goroutines import Chan, DeadlockError, go, run, runtime, sync
from goroutines._runtime import READ, READY, TIMED_OUT, wait_fds
from goroutines.testing import verify_none

goroutines.patch()


def test_a_goroutine_waiting_to_receive_parks_in_io_wait(procs: int) -> None:
    def main() -> bytes:
        left, right = socket.socketpair()
        received: Chan[bytes] = Chan(1)
        go(lambda: received.send(left.recv(10)))
        wait_until_blocked(1, "IO wait")
        right.sendall(b"ping")
        data = recv_within(received)
        left.close()
        right.close()
        return data  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=procs) == b"ping"


def test_many_goroutines_wait_on_their_own_sockets_at_once(procs: int) -> None:
    count = 200

    def main() -> list[bytes]:
        pairs = [socket.socketpair() for _ in range(count)]
        results: Chan[bytes] = Chan(count)
        for left, _ in pairs:
            go(lambda sock=left: results.send(sock.recv(16)))
        wait_until_blocked(count, "IO wait")
        for i, (_, right) in enumerate(pairs):
            right.sendall(b"%d" % i)
        got = sorted(recv_within(results) for _ in range(count))
        for left, right in pairs:
            left.close()
            right.close()
        verify_none()  # the goroutines it started have finished
        return got

    assert run(main, gomaxprocs=procs) == sorted(b"%d" % i for i in range(count))


def test_a_reader_and_a_writer_wait_on_the_same_socket(procs: int) -> None:
    """Full duplex: one goroutine blocked in recv, another blocked in sendall
    on the same socket (its send buffer full), each woken by its own event."""

    def main() -> tuple[int, bytes]:
        left, right = socket.socketpair()
        left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        payload = b"x" * 1_000_000
        done: Chan[object] = Chan(2)
        go(lambda: done.send(left.recv(5)))
        go(lambda: done.send(left.sendall(payload)))
        wait_until_blocked(2, "IO wait")
        received = 0
        while received < len(payload):
            received += len(right.recv(65536))
        right.sendall(b"hello")
        outcomes = {repr(recv_within(done)), repr(recv_within(done))}
        left.close()
        right.close()
        assert outcomes == {"None", "b'hello'"}
        return received, b"hello"

    assert run(main, gomaxprocs=procs) == (1_000_000, b"hello")


def test_a_wait_ends_at_its_timeout_with_timeout_error() -> None:
    def main() -> float:
        left, right = socket.socketpair()
        left.settimeout(0.05)
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="timed out"):
            left.recv(1)
        elapsed = time.monotonic() - start
        left.close()
        right.close()
        return elapsed

    assert 0.04 <= run(main) < PATIENCE


def test_closing_a_socket_wakes_the_goroutine_waiting_on_it_with_an_error(procs: int) -> None:
    def main() -> OSError:
        left, right = socket.socketpair()
        errors: Chan[OSError] = Chan(1)

        def reader() -> None:
            try:
                left.recv(1)
            except OSError as exc:
                errors.send(exc)

        go(reader)
        wait_until_blocked(1, "IO wait")
        left.close()
        error = recv_within(errors)
        right.close()
        return error  # type: ignore[no-any-return]

    error = run(main, gomaxprocs=procs)
    assert isinstance(error, OSError)
    assert "closed" in str(error)


def test_closing_a_listening_socket_wakes_its_accept_loop(procs: int) -> None:
    def main() -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        errors: Chan[str] = Chan(1)

        def serve() -> None:
            try:
                listener.accept()
            except OSError as exc:
                errors.send(type(exc).__name__)

        go(serve)
        wait_until_blocked(1, "IO wait")
        listener.close()
        return recv_within(errors)  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=procs) == "OSError"


def test_a_closed_fd_number_reused_by_a_new_socket_is_waited_on_afresh() -> None:
    """The old waiter is evicted; a new socket that gets the same fd number
    (before the evicted goroutine ran again) is registered and works."""

    def main() -> bytes:
        first_left, first_right = socket.socketpair()
        errors: Chan[OSError] = Chan(1)

        def reader() -> None:
            try:
                first_left.recv(1)
            except OSError as exc:
                errors.send(exc)

        go(reader)
        wait_until_blocked(1, "IO wait")
        number = first_left.fileno()
        first_left.close()
        first_right.close()
        second_left, second_right = socket.socketpair()
        assert number in (second_left.fileno(), second_right.fileno())
        got: Chan[bytes] = Chan(1)
        go(lambda: got.send(second_left.recv(5)))
        go(lambda: got.send(second_right.recv(5)))
        recv_within(errors)
        second_right.sendall(b"right")
        second_left.sendall(b"left!")
        result = sorted([recv_within(got), recv_within(got)])
        second_left.close()
        second_right.close()
        return b",".join(result)

    assert run(main) == b"left!,right"


def test_a_busy_worker_still_polls_for_ready_fds() -> None:
    """With one worker kept busy by a goroutine that only yields, a goroutine
    waiting on a socket is still woken: the scheduler polls without blocking."""

    def main() -> bytes:
        left, right = socket.socketpair()
        received: Chan[bytes] = Chan(1)
        stop = Chan[None]()

        def spin() -> None:
            while True:
                index, _ = goroutines.select(stop.recv, goroutines.default)
                if index == 0:
                    return
                runtime.gosched()

        go(spin)
        go(lambda: received.send(left.recv(4)))
        wait_until_blocked(1, "IO wait")
        right.sendall(b"data")
        data = recv_within(received)
        stop.close()
        left.close()
        right.close()
        verify_none()  # the goroutines it started have finished
        return data  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=1) == b"data"


def test_waiting_on_a_socket_is_not_a_deadlock() -> None:
    """Main blocks on a channel; the only other goroutine waits on a socket
    that a plain thread writes to later: nothing is reported."""

    def main() -> bytes:
        left, right = socket.socketpair()
        received: Chan[bytes] = Chan()
        go(lambda: received.send(left.recv(5)))

        def write_later() -> None:
            time.sleep(0.3)  # a plain thread: this sleeps the thread
            right.sendall(b"later")

        import threading

        threading.Thread(target=write_later, daemon=True).start()
        data = received.recv()
        left.close()
        right.close()
        verify_none()  # the goroutines it started have finished
        return data  # type: ignore[no-any-return]

    assert run(main) == b"later"


@pytest.mark.allow_goroutine_leaks  # the deadlocked main is abandoned
def test_a_deadlock_is_still_reported_once_the_socket_wait_ends() -> None:
    def main() -> None:
        left, right = socket.socketpair()
        right.sendall(b"x")
        assert left.recv(1) == b"x"
        Chan[int]().recv()

    with pytest.raises(DeadlockError):
        run(main)


def test_wait_fds_reports_ready_and_timed_out_outcomes() -> None:
    def main() -> tuple[int, int]:
        read_end, write_end = os.pipe()
        try:
            timed_out = wait_fds([(read_end, READ)], 0.01)
            os.write(write_end, b"x")
            ready = wait_fds([(read_end, READ)], PATIENCE)
            return timed_out, ready
        finally:
            os.close(read_end)
            os.close(write_end)

    assert run(main) == (TIMED_OUT, READY)


def test_no_fd_stays_registered_after_waits_end() -> None:
    def main() -> bool:
        left, right = socket.socketpair()
        left.settimeout(0.01)
        with pytest.raises(TimeoutError):
            left.recv(1)
        right.sendall(b"y")
        left.recv(1)
        poller = goroutines._runtime.current_runtime().workers[0].poller  # type: ignore[union-attr]
        left.close()
        right.close()
        return poller.waiting()

    assert run(main) is False


def test_io_waits_show_in_the_goroutine_dump() -> None:
    def main() -> int:
        left, right = socket.socketpair()
        group = sync.WaitGroup()
        for _ in range(3):
            group.go(left.recv, 1)
        wait_until_blocked(3, "IO wait")
        count = wait_reasons()["IO wait"]
        right.sendall(b"abc")
        group.wait()
        left.close()
        right.close()
        verify_none()  # the goroutines it started have finished
        return count

    assert run(main) == 3
