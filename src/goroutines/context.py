"""``goroutines.context``: cancellation, deadlines and request-scoped values, as Go's ``context``.

Design (after Go's ``src/context/context.go``)
==============================================

Vocabulary. A *context* is an immutable node in a tree rooted at ``background()``
(or ``todo()``). Each node is one of:

- ``_EmptyCtx``: the roots. Never cancelled, no deadline, no values; ``done()``
  is ``nilchan``.
- ``_CancelCtx``: made by ``with_cancel``/``with_cancel_cause``. It owns a lock,
  the cancellation state (``_err``, ``_cause``), a *lazily created* done channel
  and the set of its cancelable children. ``_TimerCtx`` (``with_deadline``,
  ``with_timeout``) adds a deadline and a timer; ``_AfterFuncCtx``
  (``after_func``) adds a function to start when it is cancelled.
- ``_ValueCtx`` (``with_value``): one key and value; everything else is its
  parent's.
- ``_WithoutCancelCtx`` (``without_cancel``): its parent's values, nothing else.

Any other subclass of ``Context`` is *foreign* (user code may write one).

Propagation (Go's ``propagateCancel``). A new cancelable node finds its nearest
``_CancelCtx`` ancestor (walking up through value nodes; ``without_cancel`` and
the roots end the walk). If there is one, the child registers in that
ancestor's ``_children`` set, or is cancelled on the spot if the ancestor
already is. If the nearest ancestor is foreign and can be cancelled, one
goroutine waits for either done channel (Go does the same). If nothing above
can ever be cancelled, nothing is registered at all.

Cancellation. ``_cancel`` marks a node cancelled (``_err``, ``_cause``), closes
its done channel if anyone ever asked for it (else installs the shared closed
one), stops its timer, and then does the same to every descendant registered
below it. The walk is iterative, so that a chain 10,000 deep needs no
recursion; like Go, it holds a node's lock until all of that node's
descendants are cancelled, so once ``err()`` of a node is not None, every
descendant is cancelled too. The ``children`` set is dropped when the node is
cancelled, and a node cancelled through its own ``cancel`` function removes
itself from its parent's set: a long-lived parent keeps no records of children
that are gone.

Deadlines. ``with_deadline`` never makes a child's deadline later than its
parent's: if the parent's comes first, it returns a plain ``with_cancel``
child, which reports the parent's deadline. A ``_TimerCtx`` arms a
``goroutines.time.after_func`` timer, which fires on a worker and starts a
goroutine only when it fires; cancelling the context stops the timer.

Locking. Each cancelable node has a ``threading.Lock`` guarding ``_err``,
``_cause``, ``_done_chan``, ``_children``, a ``_TimerCtx``'s ``_timer`` and an
``_AfterFuncCtx``'s ``_claimed``. ``_done`` is written once under the lock and
read without it. Lock order: a parent's lock before its children's (held
together while cancelling, and while registering a child); then a timer's
lock, then channel and runtime locks. No lock is held while user code runs:
``after_func``'s ``f`` runs in its own goroutine.

Memory model (Go's): a call of ``cancel`` happens before ``done()`` of the
context and of every descendant is closed, and before a receive that returns
because of that close; ``err()`` and ``cause()`` set by it are visible to
whoever observes the close.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, Protocol

from . import time as _gtime
from ._chan import Chan, RecvChan, nilchan
from ._runtime import go, register_thread
from ._select import default, select

__all__ = [
    "CancelCauseFunc",
    "CancelFunc",
    "Canceled",
    "Context",
    "DeadlineExceeded",
    "after_func",
    "background",
    "cause",
    "todo",
    "with_cancel",
    "with_cancel_cause",
    "with_deadline",
    "with_timeout",
    "with_value",
    "without_cancel",
]

CancelFunc = Callable[[], None]


class CancelCauseFunc(Protocol):
    """The cancel function of ``with_cancel_cause``."""

    def __call__(self, cause: BaseException | None = None, /) -> None: ...


class Canceled(Exception):
    """The error of a context cancelled by its ``cancel`` function (Go's ``context.Canceled``)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context canceled",)))


class DeadlineExceeded(TimeoutError):
    """The error of a context whose deadline passed (Go's ``context.DeadlineExceeded``)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context deadline exceeded",)))


class Context(ABC):
    """A context: a cancellation signal, an optional deadline and values.

    Contexts are immutable and safe to use from any number of goroutines and
    threads at once. Subclass it only to write a context of your own; the
    functions of this module derive children from any ``Context``.
    """

    __slots__ = ()

    @abstractmethod
    def deadline(self) -> tuple[float | None, bool]:
        """``(when, True)``: when this context will be cancelled on the
        ``goroutines.time.now()`` clock; ``(None, False)`` if it has no deadline.
        Every call returns the same result."""

    @abstractmethod
    def done(self) -> RecvChan[None]:
        """A channel closed when this context is cancelled; ``nilchan`` if it
        never can be. Every call returns the same channel."""

    @abstractmethod
    def err(self) -> Exception | None:
        """None until ``done()`` is closed; then a ``Canceled`` or
        ``DeadlineExceeded`` instance, the same one on every call."""

    @abstractmethod
    def value(self, key: object) -> Any:
        """The value bound to ``key`` (compared with ``==``) by the nearest
        ``with_value`` above, or None."""


# ---- the roots -------------------------------------------------------------------------

# The key under which a cancelable context answers ``value`` with itself (Go's
# ``cancelCtxKey``): it lets a foreign context that wraps one of ours be seen
# through. Compared by identity only.
_CANCEL_CTX_KEY: Final = object()

_NO_DEADLINE: Final[tuple[float | None, bool]] = (None, False)


class _NeverCanceled(Context):
    """A context that can never be cancelled and has no deadline."""

    __slots__ = ()

    def deadline(self) -> tuple[float | None, bool]:
        return _NO_DEADLINE

    def done(self) -> RecvChan[None]:
        return nilchan

    def err(self) -> Exception | None:
        return None


class _EmptyCtx(_NeverCanceled):
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def value(self, key: object) -> Any:
        return None

    def __repr__(self) -> str:
        return self._name


_BACKGROUND: Final = _EmptyCtx("context.Background")
_TODO: Final = _EmptyCtx("context.TODO")


def background() -> Context:
    """The root context: never cancelled, no deadline, no values (Go's ``context.Background``)."""
    return _BACKGROUND


def todo() -> Context:
    """A root context for code that does not know which context to use yet
    (Go's ``context.TODO``); behaves as ``background()``."""
    return _TODO


# ---- cancelable contexts ---------------------------------------------------------------


def _closed_done() -> RecvChan[None]:
    chan: Chan[None] = Chan()
    chan.close()
    return chan.recv_only()


# The done channel of a context cancelled before anyone asked for it.
_CLOSED_DONE: Final = _closed_done()


class _CancelCtx(Context):
    """A context that can be cancelled; see the module docstring for the locking."""

    __slots__ = (
        "_cause",
        "_children",
        "_deadline",
        "_done",
        "_done_chan",
        "_err",
        "_lock",
        "_parent",
    )

    def __init__(self, parent: Context) -> None:
        self._parent = parent
        self._lock = threading.Lock()
        self._err: Exception | None = None
        self._cause: BaseException | None = None
        self._done: RecvChan[None] | None = None
        self._done_chan: Chan[None] | None = None
        self._children: set[_CancelCtx] | None = None
        self._deadline = parent.deadline()

    def deadline(self) -> tuple[float | None, bool]:
        return self._deadline

    def done(self) -> RecvChan[None]:
        done = self._done
        if done is not None:
            return done
        with self._lock:
            if self._done is None:
                self._done_chan = Chan()
                self._done = self._done_chan.recv_only()
            return self._done

    def err(self) -> Exception | None:
        with self._lock:
            return self._err

    def value(self, key: object) -> Any:
        if key is _CANCEL_CTX_KEY:
            return self
        return _lookup(self._parent, key)

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithCancel"

    # ---- propagation (Go's propagateCancel and removeChild) --------------------------

    def _propagate_cancel(self) -> None:
        """Arrange for this context to be cancelled when its parent is."""
        parent = self._parent
        ancestor = _parent_cancel_ctx(parent)
        if ancestor is not None:
            with ancestor._lock:
                if ancestor._err is None:
                    if ancestor._children is None:
                        ancestor._children = set()
                    ancestor._children.add(self)
                    return
                err, reason = ancestor._err, ancestor._cause
            self._cancel(False, err, reason)
            return
        done = parent.done()
        if done is nilchan:
            return  # nothing above can ever be cancelled
        if select(done.recv, default)[0] == 0:
            self._cancel(False, parent.err() or Canceled(), cause(parent))
            return
        go(self._watch_foreign, done)

    def _watch_foreign(self, parent_done: RecvChan[None]) -> None:
        if select(parent_done.recv, self.done().recv)[0] == 0:
            parent = self._parent
            self._cancel(False, parent.err() or Canceled(), cause(parent))

    def _remove_from_parent(self) -> None:
        ancestor = _parent_cancel_ctx(self._parent)
        if ancestor is not None:
            with ancestor._lock:
                if ancestor._children is not None:
                    ancestor._children.discard(self)

    # ---- cancellation ------------------------------------------------------------------

    def _cancel(
        self, remove_from_parent: bool, err: Exception, cause: BaseException | None
    ) -> None:
        """Cancel this context and every descendant registered below it with
        ``err`` and ``cause`` (``err`` if None); a no-op if already cancelled.

        Iterative, with the locks of the path from this node to the current
        one held (parent before child, as everywhere)."""
        if cause is None:
            cause = err
        self._lock.acquire()
        if self._err is not None:
            self._lock.release()
            return
        stack = [(self, iter(self._mark_cancelled(err, cause)))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                node._lock.release()
                continue
            child._lock.acquire()
            if child._err is not None:  # cancelled by its own cancel, not yet removed
                child._lock.release()
                continue
            stack.append((child, iter(child._mark_cancelled(err, cause))))
        if remove_from_parent:
            self._remove_from_parent()

    def _mark_cancelled(self, err: Exception, cause: BaseException) -> set[_CancelCtx]:
        """Record the cancellation and close ``done``; return the children to
        cancel next. Caller must hold ``_lock`` and have checked ``_err`` is None."""
        self._err = err
        self._cause = cause
        if self._done_chan is None:
            self._done = _CLOSED_DONE
        else:
            self._done_chan.close()
        children = self._children
        self._children = None
        return children or _NO_CHILDREN


_NO_CHILDREN: Final[set[_CancelCtx]] = set()


class _TimerCtx(_CancelCtx):
    """A cancelable context with a deadline, cancelled by a timer when it passes."""

    __slots__ = ("_timer",)

    def __init__(self, parent: Context, when: float) -> None:
        super().__init__(parent)
        self._deadline = (when, True)
        self._timer: _gtime.Timer | None = None

    def __repr__(self) -> str:
        when = self._deadline[0]
        assert when is not None
        return f"{self._parent!r}.WithDeadline({when:.6f} [{when - _gtime.now():.6f}s])"

    def _arm(self, delay: float) -> None:
        with self._lock:
            if self._err is None:
                self._timer = _gtime.after_func(delay, self._expire)

    def _expire(self) -> None:
        self._cancel(True, DeadlineExceeded(), None)

    def _mark_cancelled(self, err: Exception, cause: BaseException) -> set[_CancelCtx]:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        return super()._mark_cancelled(err, cause)


class _AfterFuncCtx(_CancelCtx):
    """The record of an ``after_func``: starts ``f`` when cancelled, unless
    ``stop`` claimed it first (``_claimed``, under ``_lock``)."""

    __slots__ = ("_claimed", "_func")

    def __init__(self, parent: Context, func: Callable[[], object]) -> None:
        super().__init__(parent)
        self._func = func
        self._claimed = False

    def _mark_cancelled(self, err: Exception, cause: BaseException) -> set[_CancelCtx]:
        if not self._claimed:
            self._claimed = True
            go(self._func)
        return super()._mark_cancelled(err, cause)

    def stop(self) -> bool:
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
        self._cancel(True, Canceled(), None)
        return True


# ---- value and without-cancel contexts -------------------------------------------------


class _ValueCtx(Context):
    """One key-value pair; cancellation and deadline are those of ``_base``,
    the nearest ancestor that is not a value context (so a chain of values
    costs nothing to ``done()``/``err()``/``deadline()``)."""

    __slots__ = ("_base", "_key", "_parent", "_val")

    def __init__(self, parent: Context, key: object, val: object) -> None:
        self._parent = parent
        self._base: Context = parent._base if isinstance(parent, _ValueCtx) else parent
        self._key = key
        self._val = val

    def deadline(self) -> tuple[float | None, bool]:
        return self._base.deadline()

    def done(self) -> RecvChan[None]:
        return self._base.done()

    def err(self) -> Exception | None:
        return self._base.err()

    def value(self, key: object) -> Any:
        return _lookup(self, key)

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithValue({self._key!r}, {self._val!r})"


class _WithoutCancelCtx(_NeverCanceled):
    __slots__ = ("_parent",)

    def __init__(self, parent: Context) -> None:
        self._parent = parent

    def value(self, key: object) -> Any:
        return _lookup(self, key)

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithoutCancel"


def _lookup(ctx: Context, key: object) -> Any:
    """``ctx.value(key)``, walking up without recursion (Go's ``value``)."""
    while True:
        if isinstance(ctx, _ValueCtx):
            if key is not _CANCEL_CTX_KEY and ctx._key == key:
                return ctx._val
            ctx = ctx._parent
        elif isinstance(ctx, _CancelCtx):
            if key is _CANCEL_CTX_KEY:
                return ctx
            ctx = ctx._parent
        elif isinstance(ctx, _WithoutCancelCtx):
            if key is _CANCEL_CTX_KEY:
                return None
            ctx = ctx._parent
        elif isinstance(ctx, _EmptyCtx):
            return None
        else:
            return ctx.value(key)


def _parent_cancel_ctx(parent: Context) -> _CancelCtx | None:
    """The nearest ``_CancelCtx`` that cancels ``parent`` (Go's ``parentCancelCtx``).

    A foreign context counts only if it answers ``value`` with one of ours and
    hands out that one's done channel, i.e. it merely wraps it."""
    found = _lookup(parent, _CANCEL_CTX_KEY)
    if not isinstance(found, _CancelCtx):
        return None
    base = parent._base if isinstance(parent, _ValueCtx) else parent
    if base is found or found.done() is base.done():
        return found
    return None


# ---- the public constructors -----------------------------------------------------------


def _check_parent(parent: object) -> Context:
    if parent is None:
        raise TypeError("cannot create context from nil parent")
    if not isinstance(parent, Context):
        raise TypeError(f"parent must be a goroutines.context.Context, not {type(parent).__name__}")
    return parent


def with_cancel(parent: Context) -> tuple[Context, CancelFunc]:
    """A child of ``parent`` with its own ``cancel()``, Go's ``context.WithCancel``.

    The child is cancelled (``err()`` a ``Canceled``) when ``cancel`` is called
    or when ``parent`` is, whichever comes first. ``cancel`` is idempotent;
    call it as soon as the work is done, to release the child's resources."""
    ctx = _new_cancel_ctx(parent)
    return ctx, lambda: ctx._cancel(True, Canceled(), None)


def with_cancel_cause(parent: Context) -> tuple[Context, CancelCauseFunc]:
    """As ``with_cancel``, but ``cancel(cause)`` records ``cause``, which
    ``cause(ctx)`` returns (``err()`` is still a ``Canceled``). ``cancel()``
    or ``cancel(None)`` sets the cause to the ``Canceled`` error itself."""
    ctx = _new_cancel_ctx(parent)

    def cancel(cause: BaseException | None = None) -> None:
        ctx._cancel(True, Canceled(), cause)

    return ctx, cancel


def _new_cancel_ctx(parent: Context) -> _CancelCtx:
    register_thread()
    ctx = _CancelCtx(_check_parent(parent))
    ctx._propagate_cancel()
    return ctx


def with_deadline(parent: Context, deadline: float) -> tuple[Context, CancelFunc]:
    """A child cancelled with ``DeadlineExceeded`` at ``deadline`` (on the
    ``goroutines.time.now()`` clock, ``time.monotonic``), or earlier by
    ``cancel()`` (``Canceled``) or by its parent. A parent deadline that comes
    first wins: the child's deadline is never later than its parent's."""
    register_thread()
    parent = _check_parent(parent)
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise TypeError(
            f"deadline must be a float on the time.monotonic() clock, not {type(deadline).__name__}"
        )
    when, has_deadline = parent.deadline()
    if has_deadline and when is not None and when < deadline:
        return with_cancel(parent)  # the parent's deadline comes first
    ctx = _TimerCtx(parent, float(deadline))
    ctx._propagate_cancel()
    delay = deadline - _gtime.now()
    if delay <= 0:
        ctx._cancel(True, DeadlineExceeded(), None)  # already passed
    else:
        ctx._arm(delay)
    return ctx, lambda: ctx._cancel(True, Canceled(), None)


def with_timeout(parent: Context, timeout: float | timedelta) -> tuple[Context, CancelFunc]:
    """``with_deadline(parent, now() + timeout)``; ``timeout`` is float seconds or a timedelta."""
    return with_deadline(parent, _gtime.now() + _gtime.seconds(timeout))


def with_value(parent: Context, key: object, value: object) -> Context:
    """A child whose ``value(key)`` is ``value``; everything else is the parent's.

    Keys compare with ``==``; use a private object or class of your own as the
    key, so that packages cannot collide. ``None`` is not a key."""
    parent = _check_parent(parent)
    if key is None:
        raise TypeError("nil key")
    return _ValueCtx(parent, key, value)


def without_cancel(parent: Context) -> Context:
    """A child with the parent's values but none of its cancellation: never
    done, no deadline, ``err()`` None, ``cause`` None."""
    return _WithoutCancelCtx(_check_parent(parent))


def cause(ctx: Context) -> BaseException | None:
    """Why ``ctx`` was cancelled: the cause given to a ``with_cancel_cause``
    cancel function above it, else ``ctx.err()``; None while not cancelled."""
    found = _lookup(ctx, _CANCEL_CTX_KEY)
    if isinstance(found, _CancelCtx):
        # One read under the lock, as Go's: reading _cause and then err() apart
        # could see no cause yet, then the err of a cancel that came between.
        # A cancelled node always has a cause (err, if none was given).
        with found._lock:
            return found._cause
    # Not below one of ours: a foreign context may have an err, never a cause.
    return ctx.err()


def after_func(ctx: Context, f: Callable[[], object]) -> Callable[[], bool]:
    """Start ``f()`` in its own goroutine once ``ctx`` is done (at once if it
    already is), as Go's ``context.AfterFunc``; ``f`` runs at most once.

    Returns ``stop``: it prevents ``f`` from being started and returns True if
    it did; False if ``f`` was already started (or ``stop`` already called).
    ``stop`` does not wait for a started ``f`` to return."""
    if not callable(f):
        raise TypeError(f"after_func: f must be callable, not {type(f).__name__}")
    register_thread()
    record = _AfterFuncCtx(_check_parent(ctx), f)
    record._propagate_cancel()
    return record.stop
