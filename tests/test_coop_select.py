"""Cooperative ``select.select``, ``select.poll`` and ``select.epoll`` after
``goroutines.patch()``: they park only the calling goroutine and return what
the stdlib call would; on plain threads they behave as before."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import PATIENCE, recv_within, wait_until_blocked

import goroutines
from goroutines import Chan, go, run

goroutines.patch()


def _select_readable(sock: socket.socket, timeout: float | None) -> bool:
    readable, _, _ = select.select([sock], [], [], timeout)
    return readable == [sock]


def _poll_readable(sock: socket.socket, timeout: float | None) -> bool:
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    ready = poller.poll(None if timeout is None else timeout * 1000)
    return ready == [(sock.fileno(), select.POLLIN)]


def _epoll_readable(sock: socket.socket, timeout: float | None) -> bool:
    with select.epoll() as poller:
        poller.register(sock.fileno(), select.EPOLLIN)
        return poller.poll(timeout) == [(sock.fileno(), select.EPOLLIN)]


WAITS: dict[str, Callable[[socket.socket, float | None], bool]] = {
    "select": _select_readable,
    "poll": _poll_readable,
}
if hasattr(select, "epoll"):
    WAITS["epoll"] = _epoll_readable


@pytest.fixture(params=sorted(WAITS))
def readable(request: pytest.FixtureRequest) -> Callable[[socket.socket, float | None], bool]:
    return WAITS[request.param]


def test_waiting_parks_only_the_goroutine(
    readable: Callable[[socket.socket, float | None], bool],
) -> None:
    def main() -> bool:
        left, right = socket.socketpair()
        result: Chan[bool] = Chan(1)
        go(lambda: result.send(readable(left, None)))
        wait_until_blocked(1, "IO wait")  # main still runs on the only worker
        right.sendall(b"!")
        ready = recv_within(result)
        left.close()
        right.close()
        return ready  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=1) is True


def test_a_timeout_returns_nothing_ready(
    readable: Callable[[socket.socket, float | None], bool],
) -> None:
    def main() -> tuple[bool, float]:
        left, right = socket.socketpair()
        start = time.monotonic()
        ready = readable(left, 0.05)
        elapsed = time.monotonic() - start
        left.close()
        right.close()
        return ready, elapsed

    ready, elapsed = run(main)
    assert ready is False
    assert 0.04 <= elapsed < PATIENCE


def test_what_is_ready_already_returns_at_once(
    readable: Callable[[socket.socket, float | None], bool],
) -> None:
    def main() -> bool:
        left, right = socket.socketpair()
        right.sendall(b"!")
        ready = readable(left, 0)
        left.close()
        right.close()
        return ready

    assert run(main) is True


def test_a_plain_thread_waits_as_before(
    readable: Callable[[socket.socket, float | None], bool],
) -> None:
    left, right = socket.socketpair()
    with left, right:
        assert readable(left, 0.01) is False
        timer = threading.Timer(0.05, right.sendall, (b"!",))
        timer.start()
        assert readable(left, PATIENCE) is True
        timer.join()


def test_select_reports_writable_and_readable_sockets_together() -> None:
    def main() -> tuple[Any, ...]:
        left, right = socket.socketpair()
        with left, right:
            right.sendall(b"x")
            readable, writable, _ = select.select([left, right], [left], [], PATIENCE)
            return readable == [left], writable == [left]

    assert run(main) == (True, True)


def test_select_accepts_iterables_and_raw_fds() -> None:
    def main() -> list[int]:
        left, right = socket.socketpair()
        with left, right:
            go(right.sendall, b"x")
            readable, _, _ = select.select(iter([left.fileno()]), (), (), PATIENCE)
            return readable  # type: ignore[no-any-return]

    result = run(main)
    assert len(result) == 1 and isinstance(result[0], int)


def test_select_rejects_a_negative_timeout_in_a_goroutine_as_the_stdlib_does() -> None:
    def main() -> None:
        with pytest.raises(ValueError, match="non-negative"):
            select.select([], [], [], -1)

    run(main)


def test_closing_a_socket_wakes_a_select_waiting_on_it_with_an_error() -> None:
    def main() -> str:
        left, right = socket.socketpair()
        outcome: Chan[str] = Chan(1)

        def waiter() -> None:
            try:
                select.select([left], [], [])
            except OSError as exc:
                outcome.send(type(exc).__name__)

        go(waiter)
        wait_until_blocked(1, "IO wait")
        left.close()
        right.close()
        return recv_within(outcome)  # type: ignore[no-any-return]

    assert run(main) == "OSError"


def test_poll_unregister_and_modify_track_what_is_waited_for() -> None:
    def main() -> list[tuple[int, int]]:
        left, right = socket.socketpair()
        with left, right:
            poller = select.poll()
            poller.register(left, select.POLLIN)
            poller.modify(left, select.POLLOUT)
            ready = poller.poll(PATIENCE * 1000)
            poller.unregister(left)
            assert poller.poll(10) == []
            return ready  # type: ignore[no-any-return]

    left_fd_events = run(main)
    assert len(left_fd_events) == 1 and left_fd_events[0][1] & select.POLLOUT


@pytest.mark.skipif(not hasattr(select, "epoll"), reason="epoll is Linux-only")
def test_epoll_objects_keep_their_interface() -> None:
    poller = select.epoll()
    assert poller.fileno() >= 0 and not poller.closed
    poller.close()
    assert poller.closed
