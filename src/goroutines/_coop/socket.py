"""Cooperative ``socket``: in a goroutine a blocking socket call parks only
that goroutine; on a plain thread it blocks the thread, as before.

How. A socket made by this class keeps its file descriptor non-blocking and
remembers, in ``_timeout``, the timeout the program set (``settimeout``,
``setblocking``, the default timeout). Each call that may block tries its
operation; when the operation would block it waits for the fd (``wait.wait_fd``:
the runtime's poller in a goroutine, ``poll(2)`` on a plain thread, which is how
CPython itself waits when a socket has a timeout) and tries again, until the
timeout's deadline, then raises ``TimeoutError("timed out")``. A timeout of 0
(a non-blocking socket) passes every call straight through.

The fd stays non-blocking when handed over (``detach``, ``dup``): the
blocking mode belongs to the open file, which a duplicate shares, and the
stdlib's ``ssl`` detaches a socket to rewrap the same fd.

Closing a socket first wakes every goroutine waiting on it, with
``OSError(EBADF)`` (``_runtime.evict_fd``), so a goroutine never waits on a fd
that was closed and perhaps reused.

Name look-ups (``getaddrinfo`` and friends, and ``connect`` to a host name)
cannot be made non-blocking: in a goroutine they run on a helper thread through
``goroutines.blocking``. Numeric addresses skip that hop.

``PATCHES`` lists what ``goroutines.patch()`` replaces in the ``socket`` module.
Functions of that module that make sockets (``create_connection``,
``create_server``, ``socketpair``, ``fromfd``, ``socket.accept``) look the class
up there when called, so they make cooperative sockets once it is patched.
"""

from __future__ import annotations

import errno
import math
import os
import socket as _stdlib
from typing import Any

from .._runtime import blocking, evict_fd, running_goroutine
from .wait import READ, WRITE, deadline_after, wait_fd

__all__ = [
    "PATCHES",
    "getaddrinfo",
    "gethostbyaddr",
    "gethostbyname",
    "gethostbyname_ex",
    "getnameinfo",
    "socket",
]

_Socket = _stdlib.socket
_CSocket = _stdlib.SocketType  # the C type: its methods bypass the Python-level class
_getaddrinfo = _stdlib.getaddrinfo
_gethostbyname = _stdlib.gethostbyname
_gethostbyname_ex = _stdlib.gethostbyname_ex
_gethostbyaddr = _stdlib.gethostbyaddr
_getnameinfo = _stdlib.getnameinfo


class socket(_Socket):  # lower case: it replaces socket.socket under the same name
    """``socket.socket``, cooperative in goroutines. See the module docstring."""

    __slots__ = ("_timeout",)

    def __init__(
        self, family: Any = -1, type: Any = -1, proto: int = -1, fileno: int | None = None
    ) -> None:
        super().__init__(family, type, proto, fileno)
        self._timeout = _CSocket.gettimeout(self)
        _CSocket.settimeout(self, 0.0)

    # ---- the timeout, kept in Python; the fd stays non-blocking --------------

    def settimeout(self, value: float | None) -> None:
        if value is not None:
            if not isinstance(value, (int, float)):
                raise TypeError("Timeout value must be int, float or None")
            if math.isnan(value):
                raise ValueError("Invalid value NaN (not a number)")
            if value < 0:
                raise ValueError("Timeout value out of range")
            value = float(value)
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    @property
    def timeout(self) -> float | None:
        return self._timeout

    # ---- calls that may block -------------------------------------------------

    def _retry(self, operation: Any, events: int, *args: Any) -> Any:
        """``operation(self, *args)``, waiting for ``events`` whenever it would block."""
        timeout = self._timeout
        if timeout == 0.0:
            return operation(self, *args)
        deadline = deadline_after(timeout)
        while True:
            try:
                return operation(self, *args)
            except BlockingIOError:
                wait_fd(self.fileno(), events, deadline)

    def _accept(self) -> tuple[int, Any]:
        return self._retry(_CSocket._accept, READ)  # type: ignore[attr-defined,no-any-return]

    def recv(self, *args: Any) -> bytes:
        return self._retry(_CSocket.recv, READ, *args)  # type: ignore[no-any-return]

    def recv_into(self, *args: Any) -> int:
        return self._retry(_CSocket.recv_into, READ, *args)  # type: ignore[no-any-return]

    def recvfrom(self, *args: Any) -> tuple[bytes, Any]:
        return self._retry(_CSocket.recvfrom, READ, *args)  # type: ignore[no-any-return]

    def recvfrom_into(self, *args: Any) -> tuple[int, Any]:
        return self._retry(_CSocket.recvfrom_into, READ, *args)  # type: ignore[no-any-return]

    def recvmsg(self, *args: Any) -> Any:
        return self._retry(_CSocket.recvmsg, READ, *args)

    def recvmsg_into(self, *args: Any) -> Any:
        return self._retry(_CSocket.recvmsg_into, READ, *args)

    def send(self, *args: Any) -> int:
        return self._retry(_CSocket.send, WRITE, *args)  # type: ignore[no-any-return]

    def sendto(self, data: Any, *args: Any) -> int:
        *flags, address = args
        address = _resolved(self, address)
        return self._retry(_CSocket.sendto, WRITE, data, *flags, address)  # type: ignore[no-any-return]

    def sendmsg(self, *args: Any) -> int:
        return self._retry(_CSocket.sendmsg, WRITE, *args)  # type: ignore[no-any-return]

    def sendall(self, data: Any, flags: int = 0) -> None:
        timeout = self._timeout
        if timeout == 0.0:
            _CSocket.sendall(self, data, flags)
            return
        deadline = deadline_after(timeout)
        with memoryview(data) as view, view.cast("B") as octets:
            sent, total = 0, len(octets)
            while sent < total:
                try:
                    sent += _CSocket.send(self, octets[sent:], flags)
                except BlockingIOError:
                    wait_fd(self.fileno(), WRITE, deadline)

    def connect(self, address: Any) -> None:
        address = _resolved(self, address)
        if self._timeout == 0.0:
            _CSocket.connect(self, address)
            return
        deadline = deadline_after(self._timeout)
        while True:
            try:
                _CSocket.connect(self, address)
                return
            except BlockingIOError as exc:
                if exc.errno == errno.EINPROGRESS:
                    break
            # EAGAIN: a Unix socket's listener has a full backlog; try again.
            wait_fd(self.fileno(), WRITE, deadline)
        wait_fd(self.fileno(), WRITE, deadline)
        error = self.getsockopt(_stdlib.SOL_SOCKET, _stdlib.SO_ERROR)
        if error:
            raise OSError(error, os.strerror(error))

    def connect_ex(self, address: Any) -> int:
        try:
            self.connect(address)
        except TimeoutError:
            return errno.EWOULDBLOCK
        except _stdlib.gaierror:
            raise
        except OSError as exc:
            if exc.errno is None:
                raise
            return exc.errno
        return 0

    # ---- closing ------------------------------------------------------------------

    def _real_close(self, _ss: Any = _CSocket) -> None:
        fd = self.fileno()
        if fd >= 0:
            evict_fd(fd)
        super()._real_close(_ss)  # type: ignore[misc]


def _is_numeric(host: Any) -> bool:
    """Whether ``host`` needs no name look-up: an IP literal, None, or what
    the C library reads without one ("" and "<broadcast>")."""
    if host is None or host in ("", b"", "<broadcast>", b"<broadcast>"):
        return True
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(host, str):
        return False
    for family, text in ((_stdlib.AF_INET, host), (_stdlib.AF_INET6, host.partition("%")[0])):
        try:
            _stdlib.inet_pton(family, text)
        except (OSError, ValueError):
            continue
        return True
    return False


def _resolved(sock: _Socket, address: Any) -> Any:
    """``address`` with its host name looked up on a helper thread, when the
    caller is a goroutine and a look-up is needed (the C call would block)."""
    if (
        sock.family not in (_stdlib.AF_INET, _stdlib.AF_INET6)
        or not isinstance(address, tuple)
        or len(address) < 2
        or _is_numeric(address[0])
        or running_goroutine() is None
    ):
        return address
    infos = blocking(_getaddrinfo, address[0], address[1], sock.family, sock.type, sock.proto)
    return infos[0][4]


# ---- name look-ups --------------------------------------------------------------


def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    if _is_numeric(host):
        return _getaddrinfo(host, port, *args, **kwargs)
    return blocking(_getaddrinfo, host, port, *args, **kwargs)


def gethostbyname(hostname: str) -> str:
    if _is_numeric(hostname):
        return _gethostbyname(hostname)
    return blocking(_gethostbyname, hostname)


def gethostbyname_ex(hostname: str) -> tuple[str, list[str], list[str]]:
    return blocking(_gethostbyname_ex, hostname)


def gethostbyaddr(ip_address: str) -> tuple[str, list[str], list[str]]:
    return blocking(_gethostbyaddr, ip_address)


def getnameinfo(sockaddr: Any, flags: int) -> tuple[str, str]:
    return blocking(_getnameinfo, sockaddr, flags)


for _function in (getaddrinfo, gethostbyname, gethostbyname_ex, gethostbyaddr, getnameinfo):
    _function.__doc__ = getattr(_stdlib, _function.__name__).__doc__

PATCHES: list[tuple[object, str, object]] = [
    (_stdlib, "socket", socket),
    (_stdlib, "getaddrinfo", getaddrinfo),
    (_stdlib, "gethostbyname", gethostbyname),
    (_stdlib, "gethostbyname_ex", gethostbyname_ex),
    (_stdlib, "gethostbyaddr", gethostbyaddr),
    (_stdlib, "getnameinfo", getnameinfo),
]
