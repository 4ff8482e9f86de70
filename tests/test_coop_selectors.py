"""Cooperative ``selectors`` after ``goroutines.patch()``: every selector class
waits in the runtime's poller inside goroutines, as before elsewhere."""

from __future__ import annotations

import selectors
import socket
import threading
import time

import pytest
from conftest import PATIENCE, recv_within, wait_until_blocked

import goroutines
from goroutines import Chan, go, run

goroutines.patch()

CLASSES = [
    name
    for name in ("SelectSelector", "PollSelector", "EpollSelector", "DevpollSelector")
    if hasattr(selectors, name)
]


@pytest.fixture(params=CLASSES)
def selector_class(request: pytest.FixtureRequest) -> type[selectors.BaseSelector]:
    return getattr(selectors, request.param)  # type: ignore[no-any-return]


def test_select_parks_only_the_goroutine(selector_class: type[selectors.BaseSelector]) -> None:
    def main() -> list[str]:
        left, right = socket.socketpair()
        result: Chan[list[str]] = Chan(1)

        def wait() -> None:
            with selector_class() as selector:
                selector.register(left, selectors.EVENT_READ, "left")
                result.send([key.data for key, _ in selector.select()])

        go(wait)
        wait_until_blocked(1, "IO wait")
        right.sendall(b"!")
        got = recv_within(result)
        left.close()
        right.close()
        return got  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=1) == ["left"]


def test_select_times_out_empty(selector_class: type[selectors.BaseSelector]) -> None:
    def main() -> tuple[list[object], float]:
        left, right = socket.socketpair()
        with left, right, selector_class() as selector:
            selector.register(left, selectors.EVENT_READ)
            start = time.monotonic()
            ready = selector.select(0.05)
            return ready, time.monotonic() - start

    ready, elapsed = run(main)
    assert ready == [] and 0.04 <= elapsed < PATIENCE


def test_a_plain_thread_selects_as_before(selector_class: type[selectors.BaseSelector]) -> None:
    left, right = socket.socketpair()
    with left, right, selector_class() as selector:
        selector.register(left, selectors.EVENT_READ)
        assert selector.select(0.01) == []
        timer = threading.Timer(0.05, right.sendall, (b"!",))
        timer.start()
        assert [key.fileobj for key, _ in selector.select(PATIENCE)] == [left]
        timer.join()


def test_default_selector_is_cooperative() -> None:
    assert selectors.DefaultSelector.__module__ == "goroutines._coop.selectors"
    assert issubclass(selectors.DefaultSelector, selectors.BaseSelector)
