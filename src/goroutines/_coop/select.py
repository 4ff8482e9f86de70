"""Cooperative ``select``: ``select.select``, ``select.poll`` and
``select.epoll`` park only the calling goroutine; on a plain thread they block
it, as before.

Each waits the same way: ask the real call without blocking; if nothing is
ready, wait in the runtime's poller for any of the fds (or, for an epoll
object, for its own fd, which becomes readable when any fd registered in it
is ready) until the timeout, and ask again. The real call decides what is
ready, so results, errors and corner cases are exactly the stdlib's.

``PATCHES`` lists what ``goroutines.patch()`` replaces in the ``select`` module.
"""

from __future__ import annotations

import select as _stdlib
from typing import Any

from .._runtime import running_goroutine
from .wait import READ, WRITE, deadline_after, wait_any

__all__ = ["PATCHES", "select"]

_select = _stdlib.select
_poll = getattr(_stdlib, "poll", None)
_epoll = getattr(_stdlib, "epoll", None)
_POLL_DEFAULT = _stdlib.POLLIN | _stdlib.POLLPRI | _stdlib.POLLOUT
_POLL_WRITE = _stdlib.POLLOUT | getattr(_stdlib, "POLLWRNORM", 0)


def _fileno(obj: Any) -> int:
    return obj if isinstance(obj, int) else int(obj.fileno())


def select(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> Any:
    if running_goroutine() is None or timeout == 0:
        return _select(rlist, wlist, xlist, timeout)
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be non-negative")
    rlist, wlist, xlist = list(rlist), list(wlist), list(xlist)
    ready = _select(rlist, wlist, xlist, 0)  # also checks the arguments
    deadline = deadline_after(timeout)
    fds = [(_fileno(obj), READ) for obj in rlist + xlist]
    fds += [(_fileno(obj), WRITE) for obj in wlist]
    while not any(ready):
        if not wait_any(fds, deadline):
            return [], [], []
        ready = _select(rlist, wlist, xlist, 0)
    return ready


select.__doc__ = _select.__doc__


def _events(pollmask: int) -> int:
    """poll(2) event bits as READ/WRITE (hang-ups and errors wake readers)."""
    events = WRITE if pollmask & _POLL_WRITE else 0
    if pollmask & ~_POLL_WRITE or not events:
        events |= READ
    return events


class _Poll:
    """What ``select.poll()`` returns, cooperative in goroutines."""

    def __init__(self) -> None:
        assert _poll is not None
        self._poll = _poll()
        self._masks: dict[int, int] = {}

    def register(self, fd: Any, eventmask: int = _POLL_DEFAULT) -> None:
        self._poll.register(fd, eventmask)
        self._masks[_fileno(fd)] = eventmask

    def modify(self, fd: Any, eventmask: int) -> None:
        self._poll.modify(fd, eventmask)
        self._masks[_fileno(fd)] = eventmask

    def unregister(self, fd: Any) -> None:
        self._poll.unregister(fd)
        del self._masks[_fileno(fd)]

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        """As ``select.poll().poll``: ``timeout`` in milliseconds, None or
        negative for none."""
        if running_goroutine() is None or timeout == 0:
            return self._poll.poll(timeout)  # type: ignore[no-any-return]
        ready = self._poll.poll(0)
        deadline = None if timeout is None or timeout < 0 else deadline_after(timeout / 1000)
        while not ready:
            fds = [(fd, _events(mask)) for fd, mask in self._masks.items()]
            if not wait_any(fds, deadline):
                return []
            ready = self._poll.poll(0)
        return ready  # type: ignore[no-any-return]


def poll() -> _Poll:
    """Return a polling object that waits cooperatively in goroutines."""
    return _Poll()


class epoll:  # lower case: it replaces select.epoll under the same name
    """``select.epoll``, cooperative in goroutines: it waits for its own fd."""

    def __init__(self, sizehint: int = -1, flags: int = 0, *, _wrap: Any = None) -> None:
        assert _epoll is not None
        self._epoll = _wrap if _wrap is not None else _epoll(sizehint, flags)

    @classmethod
    def fromfd(cls, fd: int) -> epoll:
        assert _epoll is not None
        return cls(_wrap=_epoll.fromfd(fd))

    @property
    def closed(self) -> bool:
        return bool(self._epoll.closed)

    def close(self) -> None:
        self._epoll.close()

    def fileno(self) -> int:
        return int(self._epoll.fileno())

    def register(self, fd: Any, eventmask: int | None = None) -> None:
        if eventmask is None:
            self._epoll.register(fd)
        else:
            self._epoll.register(fd, eventmask)

    def modify(self, fd: Any, eventmask: int) -> None:
        self._epoll.modify(fd, eventmask)

    def unregister(self, fd: Any) -> None:
        self._epoll.unregister(fd)

    def poll(self, timeout: float | None = None, maxevents: int = -1) -> list[tuple[int, int]]:
        """As ``select.epoll.poll``: ``timeout`` in seconds, None or negative for none."""
        if running_goroutine() is None or timeout == 0:
            return self._epoll.poll(timeout, maxevents)  # type: ignore[no-any-return]
        ready = self._epoll.poll(0, maxevents)
        deadline = None if timeout is None or timeout < 0 else deadline_after(timeout)
        while not ready:
            if not wait_any(((self.fileno(), READ),), deadline):
                return []
            ready = self._epoll.poll(0, maxevents)
        return ready  # type: ignore[no-any-return]

    def __enter__(self) -> epoll:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


PATCHES: list[tuple[object, str, object]] = [(_stdlib, "select", select)]
if _poll is not None:
    PATCHES.append((_stdlib, "poll", poll))
if _epoll is not None:
    PATCHES.append((_stdlib, "epoll", epoll))
