"""Waiting for a file descriptor, from a goroutine or from a plain thread.

The cooperative modules (``socket``, ``ssl``, ``select``, ``selectors``) keep
their fds non-blocking and come here when an operation would block:

- in a goroutine, the runtime's poller parks only that goroutine
  (``_runtime.wait_fds``, wait reason ``IO wait``);
- on a plain thread (or in a timer callback), ``poll(2)`` blocks the thread,
  just as CPython waits inside a socket call that has a timeout.

Errors are the ones CPython raises: ``TimeoutError("timed out")`` when the
deadline passes, and ``OSError(EBADF)`` for a fd that is closed, or that another
goroutine closes while this one waits on it.
"""

from __future__ import annotations

import errno
import math
import select
import time
from collections.abc import Sequence

from .._runtime import CLOSED, READ, TIMED_OUT, WRITE, running_goroutine, wait_fds

__all__ = ["READ", "WRITE", "deadline_after", "wait_any", "wait_fd"]

# The real ones, captured before ``goroutines.patch()`` replaces them.
_poll = getattr(select, "poll", None)
_select = select.select
_monotonic = time.monotonic


def deadline_after(timeout: float | None) -> float | None:
    """The ``time.monotonic()`` deadline of a timeout (None: no deadline)."""
    return None if timeout is None else _monotonic() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - _monotonic())


def _closed_error() -> OSError:
    return OSError(errno.EBADF, "use of closed network connection")


def wait_fd(fd: int, events: int, deadline: float | None) -> None:
    """Wait until ``fd`` is ready for ``events`` (READ and/or WRITE). Raises
    ``TimeoutError`` at ``deadline`` and ``OSError(EBADF)`` if ``fd`` is closed."""
    if fd < 0:
        raise _closed_error()
    if running_goroutine() is not None:
        if not wait_any(((fd, events),), deadline):
            raise TimeoutError("timed out")
        return
    if not _wait_thread(fd, events, deadline):
        raise TimeoutError("timed out")


def wait_any(fds: Sequence[tuple[int, int]], deadline: float | None) -> bool:
    """Park the calling goroutine until one of ``fds`` is ready (True) or
    ``deadline`` passes (False). With no fds and no deadline it waits forever."""
    timeout = _remaining(deadline)
    if timeout == 0.0:
        return False
    outcome = wait_fds(fds, timeout)
    if outcome == CLOSED:
        raise _closed_error()
    return outcome != TIMED_OUT


def _wait_thread(fd: int, events: int, deadline: float | None) -> bool:
    """Block this thread until ``fd`` is ready (True) or ``deadline`` (False)."""
    timeout = _remaining(deadline)
    if _poll is None:  # no poll(2) (Windows): select(2)
        readers = [fd] if events & READ else []
        writers = [fd] if events & WRITE else []
        return any(_select(readers, writers, [fd], timeout))
    poller = _poll()
    mask = (select.POLLIN if events & READ else 0) | (select.POLLOUT if events & WRITE else 0)
    poller.register(fd, mask)
    return bool(poller.poll(None if timeout is None else math.ceil(timeout * 1000)))
