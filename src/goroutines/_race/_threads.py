"""Plain threads' happens-before edges, while a race session is open.

``threading.Thread.start`` happens before the thread's first step, and the
thread's last step happens before a ``join`` that returns because it ended:
without these, data a thread was handed at its start, or results read after
``join``, would be reported as races. The session wraps ``start`` and
``join`` of ``threading.Thread`` and restores them when it ends. ``start``
also wraps the thread's ``run`` (an attribute of that one thread object), so
that the end edge is released before ``threading`` lets ``join`` return. The
new thread's actor acquires the start edge when it is made
(``Detector.actor``).
"""

from __future__ import annotations

import threading
from typing import Any

_saved: dict[str, Any] = {}


def watch(detector: Any) -> None:
    """Wrap ``threading.Thread``'s methods to report to ``detector``."""
    cls: Any = threading.Thread
    start, join = cls.start, cls.join
    _saved.update(start=start, join=join)

    def start_(self: threading.Thread) -> None:
        run = self.run

        def run_() -> None:
            try:
                run()
            finally:
                detector.release(("thread end", self))

        self.run = run_  # type: ignore[method-assign]
        detector.release(("thread start", self))
        start(self)

    def join_(self: threading.Thread, timeout: float | None = None) -> None:
        join(self, timeout)
        if not self.is_alive():
            detector.acquire(("thread end", self))

    cls.start, cls.join = start_, join_


def unwatch() -> None:
    """Put ``threading.Thread``'s methods back."""
    cls: Any = threading.Thread
    for name, method in _saved.items():
        setattr(cls, name, method)
    _saved.clear()
