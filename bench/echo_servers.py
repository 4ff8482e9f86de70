"""The echo servers of the echo benchmark, one per concurrency model; run one per process.

    python bench/echo_servers.py IMPL [--backlog N]

The server listens on 127.0.0.1, port 0, prints the port it got on a line of its own, then echoes
every byte it receives on every connection until it is killed. It dies with its parent (Linux's
``PR_SET_PDEATHSIG``), so a crashed or interrupted ``echo.py`` leaves no server behind. When the
implementation cannot run here it prints ``unavailable: REASON`` instead of a port and exits.

goroutines, gevent and threads run the very same blocking function, :func:`echo_loop`
(``recv``/``sendall`` until the peer closes); asyncio and uvloop run its streams twin,
:func:`echo_stream`. Every server sets ``TCP_NODELAY`` on its connections (asyncio and uvloop
do so by default) and listens with the same backlog, so only the concurrency model differs.

This module imports nothing heavier than ``socket`` at the top: each server imports its own
library, so gevent or ``goroutines.patch()`` never touch another implementation.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

HOST = "127.0.0.1"
#: Listen backlog of every server: above the 1,000 connections the client opens.
BACKLOG = 2048
#: Bytes asked of one ``recv``: far more than one request, as a real server would ask.
RECV_SIZE = 65536


class Unavailable(Exception):
    """The implementation cannot run here (not installed, not in this build); says why."""


# --- process set-up, shared with the client ----------------------------------------------------


def raise_fd_limit(needed: int) -> int:
    """Raises the soft limit on open files to the hard limit if ``needed`` is above it.

    Returns the soft limit in force afterwards, which may still be below ``needed``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def die_with_parent() -> None:
    """Asks Linux to SIGKILL this process when its parent exits (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getppid()
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(1)


def announce(port: int) -> None:
    """Tells the parent that the server accepts connections now, and on which port."""
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()


# --- the handlers ------------------------------------------------------------------------------


def echo_loop(conn: socket.socket) -> None:
    """Echoes one connection with blocking calls until the peer closes it."""
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while data := conn.recv(RECV_SIZE):
                conn.sendall(data)
        except ConnectionError:  # the client resets its connections when it is done
            pass


async def echo_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echoes one connection with asyncio streams until the peer closes it."""
    try:
        while data := await reader.read(RECV_SIZE):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


# --- the servers -------------------------------------------------------------------------------


def serve_goroutines(backlog: int) -> None:
    """``goroutines.patch()``, then an accept loop in main and ``go(echo_loop, conn)``."""
    try:
        import goroutines
    except ImportError as exc:
        raise Unavailable(f"cannot import goroutines: {exc}") from exc
    if not hasattr(goroutines, "patch"):
        raise Unavailable("goroutines.patch() is not in this build")
    goroutines.patch()

    def main() -> None:
        listener = socket.create_server((HOST, 0), backlog=backlog)
        announce(listener.getsockname()[1])
        while True:
            conn, _ = listener.accept()
            goroutines.go(echo_loop, conn)

    goroutines.run(main)


def serve_asyncio(backlog: int) -> None:
    """``asyncio.start_server`` with :func:`echo_stream`, on asyncio's default event loop."""
    import asyncio

    asyncio.run(_stream_server(backlog))


def serve_uvloop(backlog: int) -> None:
    """The asyncio server, unchanged, on uvloop's event loop."""
    import asyncio

    try:
        import uvloop
    except ImportError as exc:
        raise Unavailable(f"cannot import uvloop: {exc}") from exc
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_stream_server(backlog))


async def _stream_server(backlog: int) -> None:
    import asyncio

    server = await asyncio.start_server(echo_stream, HOST, 0, backlog=backlog)
    announce(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def serve_gevent(backlog: int) -> None:
    """``gevent.server.StreamServer`` running :func:`echo_loop` on gevent's sockets (no
    monkey-patching: the server hands each handler a gevent socket)."""
    try:
        from gevent.server import StreamServer
    except ImportError as exc:
        raise Unavailable(f"cannot import gevent: {exc}") from exc
    server = StreamServer((HOST, 0), lambda conn, _address: echo_loop(conn), backlog=backlog)
    server.start()
    announce(server.address[1])
    server.serve_forever()


def serve_threads(backlog: int) -> None:
    """``socketserver.ThreadingTCPServer``: one OS thread per connection running
    :func:`echo_loop`."""
    import socketserver

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            echo_loop(self.request)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        block_on_close = False
        request_queue_size = backlog

    with Server((HOST, 0), Handler) as server:
        announce(server.server_address[1])
        server.serve_forever()


def serve_uvloop_protocol(backlog: int) -> None:
    """Not a contender but a gauge: an ``asyncio.Protocol`` echo on uvloop, the least work per
    request a Python server here can do, so its rate shows how far the client can go."""
    import asyncio

    try:
        import uvloop
    except ImportError as exc:
        raise Unavailable(f"cannot import uvloop: {exc}") from exc

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)  # type: ignore[attr-defined]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, HOST, 0, backlog=backlog)
        announce(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


#: Every server, in table order.
SERVERS: dict[str, Callable[[int], None]] = {
    "goroutines": serve_goroutines,
    "asyncio": serve_asyncio,
    "uvloop": serve_uvloop,
    "gevent": serve_gevent,
    "threads": serve_threads,
    "uvloop_protocol": serve_uvloop_protocol,
}
#: The servers run when none are named: the last one is a gauge of the client, not a contender.
DEFAULT_SERVERS = ("goroutines", "asyncio", "uvloop", "gevent", "threads")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("impl", choices=SERVERS)
    parser.add_argument("--backlog", type=int, default=BACKLOG)
    args = parser.parse_args()
    die_with_parent()
    raise_fd_limit(args.backlog + 64)
    try:
        SERVERS[args.impl](args.backlog)
    except Unavailable as exc:
        sys.stdout.write(f"unavailable: {exc}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
