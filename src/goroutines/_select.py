"""``select``, after Go's ``runtime/select.go``.

A select runs in three named steps, with the locks of every channel involved
held (taken in one global order, by ``id``, so two selects never deadlock):

1. ``_poll``: try the cases that look ready, in a uniformly random order, and
   perform the first that succeeds. Failing that, take ``default`` if given.
2. ``_enqueue``: put a ``_CaseWaiter`` on the wait queue of every case, all
   sharing one *token* (a lock), then release the channel locks and park.
3. On wake-up, the case that fired is in ``select_index``; the other waiters
   are now stale (their token is taken), and ``_forget`` tells their channels,
   which drop stale waiters lazily (see ``Chan._drop_stale``).

The token makes the race between cases safe without holding every lock: a
party that pops one of our waiters must first win ``token.acquire(False)``;
exactly one does, and everyone else skips our stale waiters.

A plain thread's select can be interrupted while it waits (a signal handler
raises in it: Ctrl-C). The thread then claims the token itself
(``ThreadWait.withdraw``): if it wins, no case fired and none will; if a
case fired first, its effect stands, except that a value received goes back
to its channel (``Chan._hand_back``). Either way the exception propagates.
"""

from __future__ import annotations

import random
import threading
from types import BuiltinMethodType, MethodType
from typing import Any, Final

from ._chan import _CLOSED, _EMPTY, Chan, ClosedChannelError, _RecvView, _SendView, nilchan
from ._runtime import G, ThreadWait, current, register_thread
from ._runtime.threads import tls

_RECV: Final = 0
_RECV_OK: Final = 1
_SEND: Final = 2

_random = random.random


class _Default:
    __slots__ = ()

    def __repr__(self) -> str:
        return "goroutines.default"


default: Final = _Default()
"""The ``default`` case of ``select``: taken when no other case is ready."""


class _CaseWaiter:
    """One case of a blocked select, queued on that case's channel (Go's sudog)."""

    __slots__ = ("index", "parker", "select_token", "value")

    def __init__(self, parker: G | ThreadWait, index: int, value: Any, token: Any) -> None:
        self.parker = parker
        self.index = index
        self.value = value  # the value to send, for a send case
        self.select_token = token

    def complete(self, value: Any, ok: bool) -> None:
        parker = self.parker
        parker.select_index = self.index
        parker.value = value
        parker.ok = ok
        parker.make_ready()


# The receive methods of a channel, by name (the common case of ``_parse`` first).
_RECV_KINDS: Final = {"recv": _RECV, "recv_ok": _RECV_OK}
# A channel's bound methods: Python methods, or C methods with the compiled core.
_BOUND: Final = (MethodType, BuiltinMethodType)

# A parsed case: (kind, channel, value to send); channel None means "never ready".
_Case = tuple[int, "Chan[Any] | None", Any]


def select(*cases: Any) -> tuple[int, Any]:
    """Wait until one case can proceed, perform it, return ``(index, value)``.

    Cases: ``ch.recv`` (value: what was received, None if closed),
    ``ch.recv_ok`` (value: ``(value, ok)``), ``(ch.send, v)`` (value: None;
    raises ``ClosedChannelError`` if chosen on a closed channel) and
    ``default`` (taken at once if nothing else is ready). Among ready cases one
    is chosen uniformly at random. ``select()`` with no cases blocks forever.
    """
    register_thread()
    parsed, default_index = _parse(cases)
    if not cases:
        current().park("select (no cases)")
        raise AssertionError("a goroutine blocked in an empty select was woken")
    channels = sorted({id(c): c for _, c, _ in parsed if c is not None}.values(), key=id)
    for chan in channels:
        chan._lock.acquire()
    try:
        order: list[int] = []
        index, value = _poll(parsed, order)
        if index < 0:
            if default_index >= 0:
                return default_index, None
            me = current()
            token = threading.Lock()
            waiters = _enqueue(parsed, order, me, token)
    finally:
        for chan in channels:
            chan._lock.release()
    if index >= 0:
        return index, value
    try:
        me.park("select", tuple(channels))
    except BaseException:  # a plain thread's wait, interrupted by a signal handler
        _withdraw(parsed, waiters, me, token)
        raise
    index = me.select_index
    _forget(waiters, index)
    return index, _result(parsed[index][0], me)


def _parse(cases: tuple[Any, ...]) -> tuple[list[_Case], int]:
    parsed: list[_Case] = []
    default_index = -1
    for index, case in enumerate(cases):
        if type(case) in _BOUND and type(case.__self__) is Chan:
            kind = _RECV_KINDS.get(case.__name__)
            if kind is not None:  # the common case, checked first
                parsed.append((kind, case.__self__, None))
                continue
        if case is default:
            if default_index >= 0:
                raise ValueError("select: multiple default cases")
            default_index = index
            parsed.append((_RECV, None, None))
        elif type(case) is tuple:
            parsed.append(_parse_send(case))
        elif type(case) in _BOUND and case.__name__ in _RECV_KINDS:
            chan = _channel_of(case.__self__, _RecvView)
            parsed.append((_RECV_KINDS[case.__name__], chan, None))
        else:
            raise TypeError(
                f"select: case {index} must be ch.recv, ch.recv_ok, (ch.send, value) or "
                f"default, not {case!r}"
            )
    return parsed, default_index


def _parse_send(case: tuple[Any, ...]) -> _Case:
    if len(case) != 2:
        raise TypeError(f"select: a send case is (ch.send, value), got a {len(case)}-tuple")
    method, value = case
    if type(method) not in _BOUND or method.__name__ != "send":
        raise TypeError(f"select: a send case is (ch.send, value), not ({method!r}, ...)")
    return _SEND, _channel_of(method.__self__, _SendView), value


def _channel_of(owner: Any, view_type: type) -> Chan[Any] | None:
    if isinstance(owner, view_type):
        owner = owner._chan  # type: ignore[attr-defined]
    if not isinstance(owner, Chan):
        raise TypeError(f"select: {owner!r} is not a channel")
    return None if owner is nilchan else owner


def _poll(parsed: list[_Case], order: list[int]) -> tuple[int, Any]:
    """Step 1: perform a ready case chosen at random; (-1, None) if none is.

    Appends each case tried to ``order``: when none was ready, that is a random
    permutation of the cases, the order in which ``_enqueue`` queues them."""
    candidates = [i for i, (kind, chan, _) in enumerate(parsed) if chan is not None]
    worker = getattr(tls, "worker", None)
    rand = worker.random if worker is not None else _random  # seeded in a seeded run
    while candidates:
        pick = int(rand() * len(candidates))
        index = candidates[pick]
        candidates[pick] = candidates[-1]
        candidates.pop()
        order.append(index)
        kind, chan, value = parsed[index]
        assert chan is not None
        if kind == _SEND:
            if chan._try_send(value):
                return index, None
            continue
        received = chan._try_recv()
        if received is _EMPTY:
            continue
        if received is _CLOSED:
            return index, (None, False) if kind == _RECV_OK else None
        return index, (received, True) if kind == _RECV_OK else received
    return -1, None


def _enqueue(
    parsed: list[_Case], order: list[int], me: G | ThreadWait, token: threading.Lock
) -> list[tuple[Chan[Any], _CaseWaiter]]:
    """Step 2: queue a waiter for every case, in ``order`` (random, so that cases
    that become ready at once are chosen at random); they share ``token``."""
    waiters = []
    for index in order:
        kind, chan, value = parsed[index]
        assert chan is not None
        waiter = _CaseWaiter(me, index, value, token)
        chan._drop_stale()
        (chan._sendq if kind == _SEND else chan._recvq).append(waiter)
        waiters.append((chan, waiter))
    return waiters


def _forget(waiters: list[tuple[Chan[Any], _CaseWaiter]], won: int) -> None:
    """Step 3: tell the channels of the cases that lost that a waiter is stale
    (an estimate kept without the channel's lock; see ``Chan._drop_stale``)."""
    for chan, waiter in waiters:
        if waiter.index != won:
            chan._stale += 1


def _withdraw(
    parsed: list[_Case],
    waiters: list[tuple[Chan[Any], _CaseWaiter]],
    me: G | ThreadWait,
    token: threading.Lock,
) -> None:
    """``me``'s park raised: give the select up. If a case fired first, a
    value it received goes back to its channel."""
    if me.withdraw(token):
        _forget(waiters, -1)
    else:
        index = me.select_index
        _forget(waiters, index)
        kind, chan, _ = parsed[index]
        if kind != _SEND and me.ok:
            assert chan is not None
            chan._hand_back(me.value)
    me.value = None


def _result(kind: int, me: G | ThreadWait) -> Any:
    value, me.value = me.value, None
    if kind == _SEND:
        if not me.ok:
            raise ClosedChannelError("send on closed channel")
        return None
    if kind == _RECV_OK:
        return value, me.ok
    return value
