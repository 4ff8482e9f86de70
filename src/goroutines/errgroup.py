"""``goroutines.errgroup``: goroutines working on subtasks of one task, as
``golang.org/x/sync/errgroup``.

Design
======

A ``Group`` is a ``sync.WaitGroup`` that counts its goroutines, plus the first
exception any of them raised (``_err``, set once under ``_lock``). ``wait``
waits on the WaitGroup, then raises ``_err``.

An exception (an ``Exception``; a ``BaseException`` such as ``KeyboardInterrupt``
is not caught and escapes its goroutine, ending the run) is the Python spelling
of Go's non-nil error return: it is recorded, not propagated, and the goroutine
ends normally.

``with_context(ctx)`` derives a ``with_cancel_cause`` context whose cancel
function the group keeps: the first exception cancels it with itself as the
cause, and ``wait`` cancels it on return.

The limit (``set_limit``) is a buffered channel of tokens, as in x/sync: ``go``
sends a token before starting the goroutine (blocking while the group is full),
``try_go`` sends only if it can without blocking, and a goroutine receives its
token back when it finishes. A negative limit removes the channel.

Memory model: the return of every function started by ``go`` happens before
``wait`` returns; a function's exception is recorded before the context is
cancelled because of it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec

from . import context as _context
from ._chan import Chan
from ._runtime import go as _go
from ._select import default, select
from .sync import WaitGroup

__all__ = ["Group", "with_context"]

P = ParamSpec("P")


class Group:
    """A collection of goroutines working on subtasks of one task (Go's
    ``errgroup.Group``). A new ``Group`` has no limit and no context; it is
    not reusable after ``wait`` raised, as in Go (it keeps the first exception)."""

    __slots__ = ("_cancel", "_err", "_lock", "_tokens", "_wg")

    def __init__(self) -> None:
        self._wg = WaitGroup()
        self._lock = threading.Lock()
        self._err: Exception | None = None
        self._cancel: _context.CancelCauseFunc | None = None
        self._tokens: Chan[None] | None = None

    def go(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run ``fn(*args, **kwargs)`` in a new goroutine.

        Blocks while the group already runs as many goroutines as its limit.
        The first exception ``fn`` raises in any of the group's goroutines is
        raised by ``wait`` (and cancels ``with_context``'s context)."""
        tokens = self._tokens
        if tokens is not None:
            tokens.send(None)
        self._start(tokens, fn, args, kwargs)

    def try_go(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> bool:
        """As ``go``, but only if the group is below its limit now; returns
        whether ``fn`` was started."""
        tokens = self._tokens
        if tokens is not None and select((tokens.send, None), default)[0] != 0:
            return False
        self._start(tokens, fn, args, kwargs)
        return True

    def set_limit(self, n: int) -> None:
        """Allow at most ``n`` goroutines of the group to run at once; a
        negative ``n`` means no limit. Raises ``RuntimeError`` if any
        goroutine of the group is still running (Go panics)."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"errgroup: the limit must be an int, not {type(n).__name__}")
        if n < 0:
            self._tokens = None
            return
        tokens = self._tokens
        if tokens is not None and len(tokens):
            raise RuntimeError(
                f"errgroup: modify limit while {len(tokens)} goroutines in the group"
                " are still active"
            )
        self._tokens = Chan(n)

    def wait(self) -> None:
        """Block until every function started by ``go``/``try_go`` has returned
        or raised, then raise the first exception, if any (the same object).
        Cancels ``with_context``'s context either way."""
        self._wg.wait()
        if self._cancel is not None:
            self._cancel(self._err)
        if self._err is not None:
            raise self._err

    def _start(
        self,
        tokens: Chan[None] | None,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> None:
        """Start ``fn`` as a member; ``tokens`` holds its token, if there is a limit."""
        self._wg.add(1)

        def member() -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:
                self._record(exc)
            finally:
                if tokens is not None:
                    tokens.recv()  # give the token back
                self._wg.done()

        # Notes and dumps name the user's function, not this wrapper.
        functools.update_wrapper(member, fn, updated=())
        _go(member)

    def _record(self, exc: Exception) -> None:
        with self._lock:
            if self._err is not None:
                return
            self._err = exc
        if self._cancel is not None:
            self._cancel(exc)

    def __repr__(self) -> str:
        limit = "none" if self._tokens is None else self._tokens.cap
        return f"<errgroup.Group limit={limit} failed={self._err is not None}>"


def with_context(ctx: _context.Context) -> tuple[Group, _context.Context]:
    """A new ``Group`` and a context derived from ``ctx``, cancelled the first
    time a function of the group raises (``context.cause`` of it is that
    exception) or when ``wait`` returns, whichever comes first."""
    derived, cancel = _context.with_cancel_cause(ctx)
    group = Group()
    group._cancel = cancel
    return group, derived
