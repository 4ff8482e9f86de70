"""Channels, after Go's ``runtime/chan.go``.

A channel is a lock, a ring buffer (a deque bounded by ``_cap``) and two FIFO
queues of waiters: goroutines (or plain threads) blocked sending, and blocked
receiving. A sender that finds a waiting receiver hands the value straight to
it; a receiver that finds a waiting sender takes the value straight from it
(or, on a full buffered channel, takes the head of the buffer and moves the
sender's value to the tail), so no value is ever copied twice.

Invariants (all under ``_lock``):
  - At least one of ``_sendq`` and ``_recvq`` holds no live waiter, except when
    one select waits to both send on and receive from the same unbuffered
    channel (its two waiters cannot match each other: only an operation that
    is not waiting pops a waiter).
  - ``_recvq`` has live waiters only if the buffer is empty; ``_sendq`` has live
    waiters only if the buffer is full. The buffer may hold one value more
    than ``_cap`` (also on an unbuffered channel): a value that a receiver
    got as its wait was interrupted goes back to the head (``_hand_back``),
    and is received before any other; meanwhile senders wait.
  - Once ``_closed`` is set, both queues are empty of live waiters and stay so.
  - A waiter is *live* unless its token is taken (see ``_runtime.waiters``):
    it belongs to a select that another case already won, or a plain thread
    gave the wait up when a signal handler raised in it. Stale waiters stay
    in the queue until they are popped and skipped, or until ``_stale`` says
    about half the queue is stale and the next select that waits here
    rebuilds it (``_drop_stale``).
  - A waiter is completed (``complete(value, ok)``) exactly once, by the party
    that popped it, while holding ``_lock``; ``ok`` False means "closed".

Happens-before (Go's memory model): a send happens before the receive that
takes its value completes; a close happens before a receive that returns
because of it; the k-th receive on a channel of capacity C happens before the
(k+C)-th send completes. The lock gives all three.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _compiled
from ._runtime import G, ThreadWait, current, hooks, is_live, pop_live, register_thread
from ._runtime.g import RUNNABLE, WAITING
from ._runtime.threads import tls

T = TypeVar("T")

# What ``_try_recv`` returns when it did not receive.
_EMPTY: Any = object()  # nothing to receive now
_CLOSED: Any = object()  # closed and drained


class ClosedChannelError(RuntimeError):
    """Send on, or close of, a closed (or nil) channel."""


class SendChan(ABC, Generic[T]):
    """The send side of a channel: ``send``, ``close``, ``len``, ``cap``."""

    __slots__ = ()

    @abstractmethod
    def send(self, value: T, /) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def __len__(self) -> int: ...

    @property
    @abstractmethod
    def cap(self) -> int: ...


class RecvChan(ABC, Generic[T]):
    """The receive side of a channel: ``recv``, ``recv_ok``, iteration, ``len``, ``cap``."""

    __slots__ = ()

    @abstractmethod
    def recv(self) -> T | None: ...

    @abstractmethod
    def recv_ok(self) -> tuple[T | None, bool]: ...

    def __iter__(self) -> Iterator[T]:
        """Receive until the channel is closed and drained."""
        while True:
            value, ok = self.recv_ok()
            if not ok:
                return
            yield value  # type: ignore[misc]

    @abstractmethod
    def __len__(self) -> int: ...

    @property
    @abstractmethod
    def cap(self) -> int: ...


class _PyChanCore:
    """A channel's fields and the entry points of its operations, in Python:
    the reference for ``_core.ChanCore`` (``_core.c``), which replaces this
    class as ``Chan``'s base unless pure Python runs (``goroutines._compiled``).
    Here every operation goes straight to ``Chan``'s slow path, whose first
    steps, under its one hold of the lock, are the fast paths (a free slot, a
    buffered value). The compiled entry points do those steps in C, and also
    hand a value straight to or from a goroutine waiting as itself and queue
    and park a goroutine that must wait; anything else they leave to the same
    slow path."""

    __slots__ = ("_buf", "_cap", "_closed", "_lock", "_recvq", "_sendq", "_stale")

    _buf: deque[Any]
    _cap: int
    _closed: bool
    _lock: Any  # threading.Lock here, _core.Lock with the compiled core
    _recvq: deque[Any]
    _sendq: deque[Any]
    _stale: int

    def send(self, value: Any, /) -> None:
        """Send ``value``; blocks until a receiver takes it or a slot is free.

        Raises ``ClosedChannelError`` if the channel is closed, also when it
        is closed while this sender waits.
        """
        self._send_slow(value)

    def recv(self) -> Any:
        """Receive a value; blocks until one arrives. ``None`` once closed and drained."""
        value = self._recv_slow()
        return None if value is _CLOSED else value

    def recv_ok(self) -> tuple[Any, bool]:
        """Receive ``(value, ok)``; ``ok`` is False only if closed and drained."""
        value = self._recv_slow()
        return (None, False) if value is _CLOSED else (value, True)

    def _recv(self) -> Any:
        """Receive a value, blocking if need be; ``_CLOSED`` once closed and drained."""
        return self._recv_slow()

    # Provided by Chan.
    def _send_slow(self, value: Any, /) -> None:
        raise NotImplementedError

    def _recv_slow(self) -> Any:
        raise NotImplementedError


if TYPE_CHECKING:  # both have the same fields and methods
    _ChanCore = _PyChanCore
else:
    _ChanCore = _PyChanCore if _compiled.core is None else _compiled.core.ChanCore
_new_lock: Any = threading.Lock if _compiled.core is None else _compiled.core.Lock


class Chan(_ChanCore, SendChan[T], RecvChan[T]):
    """A Go channel: unbuffered when ``capacity`` is 0, else buffered.

    Usable from goroutines on any worker and from plain threads (a plain
    thread that blocks, blocks its own OS thread).
    """

    __slots__ = ()

    def __init__(self, capacity: int = 0) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool):
            raise TypeError(f"channel capacity must be an int, not {type(capacity).__name__}")
        if capacity < 0:
            raise ValueError(f"negative channel capacity: {capacity}")
        self._lock = _new_lock()
        self._buf: deque[T] = deque()
        self._cap = capacity
        self._closed = False
        self._recvq: deque[Any] = deque()
        self._sendq: deque[Any] = deque()
        self._stale = 0

    if TYPE_CHECKING:  # the fast paths' types, as seen by a user (see _PyChanCore)

        def send(self, value: T, /) -> None: ...
        def recv(self) -> T | None: ...
        def recv_ok(self) -> tuple[T | None, bool]: ...

    def __iter__(self) -> Iterator[T]:
        """Receive until the channel is closed and drained."""
        recv = self._recv
        while True:
            value = recv()
            if value is _CLOSED:
                return
            yield value

    # ---- slow paths: whatever the fast paths did not finish -----------------

    def _send_slow(self, value: T, /) -> None:
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        lock = self._lock
        lock.acquire()  # acquire/finally: measurably cheaper than ``with`` here
        try:
            buf = self._buf
            if len(buf) < self._cap and not self._recvq and not self._closed:
                buf.append(value)  # fast path: a free slot and nobody to hand to
                if hooks.race is not None:
                    hooks.race.chan_buffer(self, False)
                return
            if self._try_send(value):
                return
            me = current()
            me.value = value
            self._sendq.append(me)
        finally:
            lock.release()
        try:
            me.park("chan send", self)
        except BaseException:  # a plain thread's wait, interrupted by a signal handler
            self._withdraw(me, received=False)
            raise
        me.value = None
        if not me.ok:
            raise ClosedChannelError("send on closed channel")

    def _recv_slow(self) -> Any:
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        lock = self._lock
        lock.acquire()
        try:
            if self._buf and not self._sendq:  # fast path: a buffered value, no sender waits
                if hooks.race is not None:
                    hooks.race.chan_buffer(self, True)
                return self._buf.popleft()
            value = self._try_recv()
            if value is not _EMPTY:
                return value
            me = current()
            self._recvq.append(me)
        finally:
            lock.release()
        try:
            me.park("chan receive", self)
        except BaseException:  # a plain thread's wait, interrupted by a signal handler
            self._withdraw(me, received=True)
            raise
        value, me.value = me.value, None
        return value if me.ok else _CLOSED

    def close(self) -> None:
        """Close the channel: wake every waiting receiver (they get ``(None, False)``)
        and every waiting sender (they raise). Closing twice raises."""
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        with self._lock:
            if self._closed:
                raise ClosedChannelError("close of closed channel")
            self._closed = True
            race = hooks.race
            if race is not None:
                race.release((self, "close"))
            for queue in (self._recvq, self._sendq):
                while queue:
                    waiter = pop_live(queue)
                    if waiter is not None:
                        if race is not None and queue is self._recvq:
                            race.acquire_for(waiter, (self, "close"))
                        waiter.complete(None, False)
            self._stale = 0

    def __len__(self) -> int:
        return len(self._buf)

    @property
    def cap(self) -> int:
        return self._cap

    def send_only(self) -> SendChan[T]:
        """A view of this channel that can only send (and close)."""
        return _SendView(self)

    def recv_only(self) -> RecvChan[T]:
        """A view of this channel that can only receive."""
        return _RecvView(self)

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<Chan cap={self._cap} len={len(self._buf)}{state}>"

    # ---- the steps shared with select (caller holds ``_lock``) ----------------

    def _try_send(self, value: Any) -> bool:
        """Send without blocking if possible; False if the sender must wait."""
        if self._closed:
            raise ClosedChannelError("send on closed channel")
        recvq = self._recvq
        if recvq:
            receiver = recvq.popleft()
            if receiver.select_token is not None and not receiver.select_token.acquire(False):
                receiver = pop_live(recvq)
            if receiver is not None:
                if hooks.race is not None:
                    hooks.race.chan_handoff(self, receiver)
                receiver.complete(value, True)
                return True
        if len(self._buf) < self._cap:
            self._buf.append(value)
            if hooks.race is not None:
                hooks.race.chan_buffer(self, False)
            return True
        return False

    def _try_recv(self) -> Any:
        """Receive without blocking if possible: the value, ``_CLOSED``, or ``_EMPTY``."""
        sendq = self._sendq
        if sendq and len(self._buf) <= self._cap:  # else a value handed back comes first
            sender = sendq.popleft()
            if sender.select_token is not None and not sender.select_token.acquire(False):
                sender = pop_live(sendq)
            if sender is not None:
                if self._cap:
                    value = self._buf.popleft()
                    self._buf.append(sender.value)
                else:
                    value = sender.value
                if hooks.race is not None:
                    hooks.race.chan_handoff(self, sender)
                sender.complete(None, True)
                return value
        if self._buf:
            if hooks.race is not None:
                hooks.race.chan_buffer(self, True)
            return self._buf.popleft()
        if self._closed:
            if hooks.race is not None:
                hooks.race.acquire((self, "close"))
            return _CLOSED
        return _EMPTY

    def _withdraw(self, me: G | ThreadWait, *, received: bool) -> None:
        """``me``'s park raised: give the wait up. A value it was handed as it
        gave up goes back to the channel (a receive), or stays delivered (a
        send: the receiver has it)."""
        if me.withdraw():
            self._stale += 1
        elif received and me.ok:
            self._hand_back(me.value)
        me.value = None

    def _hand_back(self, value: Any) -> None:
        """Give back a value that a receiver got but cannot return: it goes
        to a waiting receiver, else to the head of the buffer (even past
        ``_cap``; see the invariants), so that it is the next one received."""
        with self._lock:
            receiver = pop_live(self._recvq)
            if receiver is not None:
                receiver.complete(value, True)
            else:
                self._buf.appendleft(value)

    def _has_waiter(self, parker: Any, *, sending: bool) -> bool:
        """Whether ``parker`` (a goroutine or thread, itself or as a case of
        its select) waits to send on (``sending``) or receive from this channel."""
        with self._lock:
            queue = self._sendq if sending else self._recvq
            return any(
                is_live(w) and (w is parker or getattr(w, "parker", None) is parker) for w in queue
            )

    def _drop_stale(self) -> None:
        """Caller holds ``_lock``: rebuild the wait queues once about half of
        their waiters are stale. ``_stale`` counts the stale waiters selects
        left here; it is bumped without the lock, so it is only an estimate,
        which is all this heuristic needs (a lost count delays a rebuild)."""
        stale = self._stale
        if stale > 16 and stale * 2 > len(self._recvq) + len(self._sendq):
            self._recvq = deque(w for w in self._recvq if is_live(w))
            self._sendq = deque(w for w in self._sendq if is_live(w))
            self._stale = 0


class _View(Generic[T]):
    """What both direction-restricted views share: the channel, ``len``, ``cap``."""

    __slots__ = ("_chan",)

    def __init__(self, chan: Chan[T]) -> None:
        self._chan = chan

    def __len__(self) -> int:
        return len(self._chan)

    @property
    def cap(self) -> int:
        return self._chan.cap


class _SendView(_View[T], SendChan[T]):
    """``Chan.send_only()``: the send side of a channel."""

    __slots__ = ()

    def send(self, value: T, /) -> None:
        self._chan.send(value)

    def close(self) -> None:
        self._chan.close()

    def __repr__(self) -> str:
        return f"<SendChan of {self._chan!r}>"


class _RecvView(_View[T], RecvChan[T]):
    """``Chan.recv_only()``: the receive side of a channel."""

    __slots__ = ()

    def recv(self) -> T | None:
        return self._chan.recv()

    def recv_ok(self) -> tuple[T | None, bool]:
        return self._chan.recv_ok()

    def __repr__(self) -> str:
        return f"<RecvChan of {self._chan!r}>"


if _compiled.core is not None:
    _compiled.core.bind(
        G, RUNNABLE, WAITING, _CLOSED, ClosedChannelError, tls, vars(hooks), time.monotonic
    )


class _NilChan(Chan[Any]):
    """The nil channel: send and receive block forever; close raises."""

    __slots__ = ()

    # Not the fast paths (the compiled ones would park in the queue, as "chan
    # receive"): the nil channel has nothing to queue on.

    def send(self, value: Any, /) -> None:
        current().park("chan send (nil chan)")
        raise AssertionError("a goroutine blocked on a nil channel was woken")

    def _recv(self) -> Any:
        current().park("chan receive (nil chan)")
        raise AssertionError("a goroutine blocked on a nil channel was woken")

    def recv(self) -> Any:
        return self._recv()

    def recv_ok(self) -> tuple[Any, bool]:
        return self._recv()  # type: ignore[no-any-return]

    def close(self) -> None:
        raise ClosedChannelError("close of nil channel")

    def __repr__(self) -> str:
        return "nilchan"


nilchan: Chan[Any] = _NilChan()
"""The nil channel: ``send``/``recv`` block forever, ``close`` raises, never ready in select."""
