"""Cooperative ``selectors``: a selector's ``select`` parks only the calling
goroutine; on a plain thread it blocks it, as before.

Each stdlib selector class is replaced by a subclass whose ``select`` asks the
real selector without blocking and, when nothing is ready, waits in the
runtime's poller until the timeout: on the selector's own fd where it has one
(epoll, devpoll, kqueue: readable when a registered fd is ready), else on every
registered fd; then asks again.

``PATCHES`` lists what ``goroutines.patch()`` replaces in the ``selectors``
module: every selector class there, and ``DefaultSelector``.
"""

from __future__ import annotations

import selectors as _stdlib
from typing import Any

from .._runtime import running_goroutine
from .wait import READ, deadline_after, wait_any

__all__ = ["PATCHES"]


class _Cooperative(_stdlib.BaseSelector):
    """The ``select`` of a cooperative selector (a mixin before a stdlib class)."""

    def select(self, timeout: float | None = None) -> list[tuple[_stdlib.SelectorKey, int]]:
        if running_goroutine() is None or (timeout is not None and timeout <= 0):
            return super().select(timeout)
        deadline = deadline_after(timeout)
        ready = super().select(0)
        while not ready:
            if not wait_any(self._fds_to_wait(), deadline):
                return []
            ready = super().select(0)
        return ready

    def _fds_to_wait(self) -> list[tuple[int, int]]:
        fileno = getattr(self, "fileno", None)
        if fileno is not None:
            return [(fileno(), READ)]
        return [(key.fd, key.events) for key in self.get_map().values()]


def _cooperative(base: Any) -> Any:
    namespace = {"__doc__": base.__doc__, "__module__": __name__}
    return type(base.__name__, (_Cooperative, base), namespace)


_NAMES = ("SelectSelector", "PollSelector", "EpollSelector", "DevpollSelector", "KqueueSelector")
_CLASSES = {name: _cooperative(getattr(_stdlib, name)) for name in _NAMES if hasattr(_stdlib, name)}

PATCHES: list[tuple[object, str, object]] = [
    (_stdlib, name, cls) for name, cls in _CLASSES.items()
] + [(_stdlib, "DefaultSelector", _CLASSES[_stdlib.DefaultSelector.__name__])]
