"""Cooperative ``ssl``: TLS sockets whose reads, writes and handshakes park
only the calling goroutine; on a plain thread they block it, as before.

``SSLSocket`` here is the stdlib's ``ssl.SSLSocket`` mixed with the
cooperative ``socket`` (method order: stdlib SSLSocket, then cooperative
socket), so its fd is non-blocking and its timeout kept in Python. The TLS
engine then reports "want read"/"want write" instead of blocking; each such
call waits for the fd and tries again, until the timeout's deadline. A
non-blocking TLS socket (timeout 0) raises those errors as before.

``PATCHES`` lists what ``goroutines.patch()`` replaces: only
``SSLContext.sslsocket_class``, the class ``wrap_socket`` makes. The name
``ssl.SSLSocket`` stays the stdlib's class, which ours subclasses (so
``isinstance`` checks hold): the stdlib's own code reaches its base class
through that name, and would reach ours instead.
"""

from __future__ import annotations

import ssl as _stdlib
from typing import Any

from .socket import socket as _cooperative_socket
from .wait import READ, WRITE, deadline_after, wait_fd

__all__ = ["PATCHES", "SSLSocket"]


class SSLSocket(_stdlib.SSLSocket, _cooperative_socket):
    """``ssl.SSLSocket``, cooperative in goroutines. See the module docstring."""

    _sslobj: Any  # the stdlib's TLS engine (an ``_ssl._SSLSocket``), None once unwrapped

    def _tls(self, operation: Any, *args: Any, block: bool = False) -> Any:
        """``operation(*args)`` on the TLS engine, waiting whenever it wants I/O.
        ``block``: wait even on a non-blocking socket (``do_handshake(block=True)``)."""
        timeout = self._timeout
        if timeout == 0.0:
            if not block:
                return operation(*args)
            timeout = None
        deadline = deadline_after(timeout)
        while True:
            try:
                return operation(*args)
            except _stdlib.SSLWantReadError:
                wait_fd(self.fileno(), READ, deadline)
            except _stdlib.SSLWantWriteError:
                wait_fd(self.fileno(), WRITE, deadline)

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        return self._tls(super().read, len, buffer)

    def write(self, data: Any) -> int:
        return self._tls(super().write, data)  # type: ignore[no-any-return]

    def send(self, data: Any, flags: int = 0) -> int:
        if self._sslobj is None:
            return super().send(data, flags)
        return self._tls(super().send, data, flags)  # type: ignore[no-any-return]

    def do_handshake(self, block: bool = False) -> None:
        self._check_connected()  # type: ignore[attr-defined]
        self._tls(self._sslobj.do_handshake, block=block)

    def unwrap(self) -> Any:
        if self._sslobj is None:
            raise ValueError(f"No SSL wrapper around {self}")
        plain = self._tls(self._sslobj.shutdown)
        self._sslobj = None
        return plain


PATCHES: list[tuple[object, str, object]] = [
    (_stdlib.SSLContext, "sslsocket_class", SSLSocket),
]
