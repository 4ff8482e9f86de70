# The compiled channel core (see _core.c); the Python reference is _chan._PyChanCore.
from collections import deque
from collections.abc import Callable
from typing import Any

class Lock:
    def acquire(self) -> bool: ...
    def release(self) -> None: ...
    def locked(self) -> bool: ...
    def __enter__(self) -> bool: ...
    def __exit__(self, *exc: object) -> None: ...

class ChanCore:
    _buf: deque[Any]
    _cap: int
    _closed: bool
    _lock: Any
    _recvq: deque[Any]
    _sendq: deque[Any]
    _stale: int
    def send(self, value: Any, /) -> None: ...
    def recv(self) -> Any: ...
    def recv_ok(self) -> tuple[Any, bool]: ...
    def _recv(self) -> Any: ...

def bind(
    g: type,
    runnable: object,
    waiting: object,
    closed: object,
    closed_error: type[BaseException],
    tls: object,
    hooks_dict: dict[str, Any],
    monotonic: Callable[[], float],
    /,
) -> None: ...
