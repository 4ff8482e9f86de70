"""Go's ``sync/atomic`` typed values: ``Int``, ``Bool``, ``Value``.

Each object holds one value and a ``threading.Lock`` (``_lock``) that guards
it; every operation, reads included, takes that lock for the few bytecodes it
needs and never blocks otherwise. So each operation is atomic (linearizable)
with respect to every goroutine and plain thread, on GIL and free-threaded
builds alike, without relying on any bytecode being atomic.

Why reads lock too: on a free-threaded build an unlocked read could be ordered
before writes the storing thread made earlier; taking the lock gives Go's
guarantee that a load observing a store sees everything before that store.

Memory model (Go's): all operations on one value are sequentially
consistent; if the effect of an operation A is observed by an operation B,
A happens before B.

These hold Python objects, so ``Int`` is unbounded (no wrap-around) and
``Value`` may hold anything, ``None`` included; ``Int`` and ``Bool`` compare
by value (``==``) in ``compare_and_swap``, ``Value`` by identity (``is``).
Operations take no waiter and never park: they are safe in timer callbacks.
Under the race detector each operation is a synchronising access (it calls
``hooks.race.release_acquire`` under the value's lock, so in the order the
operations take effect).
They call ``acquire``/``release`` rather than ``with``: on CPython 3.11 that
halves the cost of an operation; ``try``/``finally`` guards only the steps that
can raise (``+`` and ``!=`` on values a caller passed).
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

from ._runtime import hooks

__all__ = ["Bool", "Int", "Value"]

T = TypeVar("T")


class _Atomic(Generic[T]):
    """What every atomic type shares: the value, its lock, load/store/swap."""

    __slots__ = ("_lock", "_value")

    def __init__(self, value: T) -> None:
        self._lock = threading.Lock()
        self._value = value

    def load(self) -> T:
        """The value now."""
        lock = self._lock
        lock.acquire()
        if hooks.race is not None:
            hooks.race.release_acquire(self)  # sequentially consistent, as Go's
        value = self._value
        lock.release()
        return value

    def store(self, value: T) -> None:
        """Set the value."""
        lock = self._lock
        lock.acquire()
        if hooks.race is not None:
            hooks.race.release_acquire(self)  # sequentially consistent, as Go's
        self._value = value
        lock.release()

    def swap(self, value: T) -> T:
        """Set the value; returns the old one."""
        lock = self._lock
        lock.acquire()
        if hooks.race is not None:
            hooks.race.release_acquire(self)  # sequentially consistent, as Go's
        old = self._value
        self._value = value
        lock.release()
        return old

    def _compare_equal_and_swap(self, old: T, new: T) -> bool:
        lock = self._lock
        lock.acquire()
        if hooks.race is not None:
            hooks.race.release_acquire(self)  # sequentially consistent, as Go's
        try:
            if self._value != old:  # may call a user-defined __eq__ (and raise)
                return False
            self._value = new
            return True
        finally:
            lock.release()

    def __repr__(self) -> str:
        return f"<atomic.{type(self).__name__} {self.load()!r}>"


class Int(_Atomic[int]):
    """An atomic integer (Go's ``atomic.Int64``, without the 64-bit limit).

    Memory model: operations on it are sequentially consistent; one that
    observes the effect of another (a ``load`` that sees a ``store``) happens
    after it.
    """

    __slots__ = ()

    def __init__(self, value: int = 0) -> None:
        super().__init__(value)

    def add(self, delta: int) -> int:
        """Add ``delta``; returns the new value."""
        lock = self._lock
        lock.acquire()
        if hooks.race is not None:
            hooks.race.release_acquire(self)  # sequentially consistent, as Go's
        try:
            self._value = value = self._value + delta  # may raise TypeError
        finally:
            lock.release()
        return value

    def compare_and_swap(self, old: int, new: int) -> bool:
        """Set the value to ``new`` if it ``== old``; whether it did."""
        return self._compare_equal_and_swap(old, new)


class Bool(_Atomic[bool]):
    """An atomic boolean (Go's ``atomic.Bool``).

    Memory model: operations on it are sequentially consistent; one that
    observes the effect of another (a ``load`` that sees a ``store``) happens
    after it.
    """

    __slots__ = ()

    def __init__(self, value: bool = False) -> None:
        super().__init__(value)

    def compare_and_swap(self, old: bool, new: bool) -> bool:
        """Set the value to ``new`` if it ``== old``; whether it did."""
        return self._compare_equal_and_swap(old, new)


class Value(_Atomic[T]):
    """An atomic reference to any object (Go's ``atomic.Value``/``atomic.Pointer``).

    Unlike Go's ``Value``, it may hold ``None`` and values of different types.

    Memory model: operations on it are sequentially consistent; one that
    observes the effect of another (a ``load`` that sees a ``store``) happens
    after it.
    """

    __slots__ = ()

    def __init__(self, value: T = None) -> None:  # type: ignore[assignment]
        super().__init__(value)

    def compare_and_swap(self, old: T, new: T) -> bool:
        """Set the value to ``new`` if it ``is old``; whether it did."""
        lock = self._lock
        lock.acquire()
        if hooks.race is not None:
            hooks.race.release_acquire(self)  # sequentially consistent, as Go's
        if self._value is not old:
            lock.release()
            return False
        self._value = new
        lock.release()
        return True
