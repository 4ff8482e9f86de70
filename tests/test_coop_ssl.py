"""Cooperative ``ssl`` after ``goroutines.patch()``: TLS handshakes, reads and
writes park only their goroutine; plain threads use TLS sockets as before."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PATIENCE, recv_within

import goroutines
from goroutines import Chan, go, run
from goroutines._coop import ssl as coop_ssl

goroutines.patch()


CERTS = Path(__file__).parent / "certs"  # see certs/README.md


@pytest.fixture(scope="module")
def server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERTS / "localhost.pem")
    return context


@pytest.fixture(scope="module")
def client_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=CERTS / "ca.pem")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0), backlog=512)
    with sock:
        yield sock


def _serve_tls(listener: socket.socket, context: ssl.SSLContext) -> tuple[str, int]:
    """Serve TLS on ``listener`` from a goroutine that echoes each line back,
    one goroutine per connection; return the address to connect to."""
    address = listener.getsockname()
    tls_listener = context.wrap_socket(listener, server_side=True)  # detaches ``listener``

    def accept_loop() -> None:
        while True:
            try:
                conn, _ = tls_listener.accept()
            except OSError:
                return
            go(_echo_lines, conn)

    go(accept_loop)
    return address  # type: ignore[no-any-return]


def _echo_lines(conn: ssl.SSLSocket) -> None:
    with conn, conn.makefile("rwb") as stream:
        for line in stream:
            stream.write(line)
            stream.flush()


def _talk(port: int, context: ssl.SSLContext, message: bytes) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as conn,
    ):
        conn.sendall(message + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            reply += conn.recv(1024)
        return reply


@pytest.mark.timeout(120)
@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_tls_server_and_clients_all_goroutines_on_one_worker(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    clients = 100

    def main() -> list[bytes]:
        port = _serve_tls(listener, server_context)[1]
        replies: Chan[bytes] = Chan(clients)
        for i in range(clients):
            go(lambda i=i: replies.send(_talk(port, client_context, b"hello %d" % i)))
        got = sorted(recv_within(replies, 60) for _ in range(clients))
        return got

    assert run(main, gomaxprocs=1) == sorted(b"hello %d\n" % i for i in range(clients))


@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_wrapped_sockets_are_the_cooperative_class(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    def main() -> bool:
        raw = socket.create_connection(_serve_tls(listener, server_context))
        with client_context.wrap_socket(raw, server_hostname="localhost") as conn:
            return isinstance(conn, coop_ssl.SSLSocket) and isinstance(conn, ssl.SSLSocket)

    assert run(main)


@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_a_tls_read_times_out(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    def main() -> None:
        address = _serve_tls(listener, server_context)
        raw = socket.create_connection(address, timeout=PATIENCE)
        with client_context.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.settimeout(0.05)
            with pytest.raises(TimeoutError):
                conn.recv(10)  # the server echoes only whole lines

    run(main)


@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_a_handshake_with_an_untrusted_certificate_fails_in_the_goroutine(
    listener: socket.socket, server_context: ssl.SSLContext
) -> None:
    def main() -> None:
        address = _serve_tls(listener, server_context)
        raw = socket.create_connection(address, timeout=PATIENCE)
        with raw, pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")

    run(main)


@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_a_plain_thread_talks_tls_to_a_goroutine_server(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    def main() -> bytes:
        port = _serve_tls(listener, server_context)[1]
        replies: Chan[bytes] = Chan(1)
        threading.Thread(
            target=lambda: replies.send(_talk(port, client_context, b"from a thread")),
            daemon=True,
        ).start()
        return recv_within(replies)  # type: ignore[no-any-return]

    assert run(main) == b"from a thread\n"


def test_unwrap_returns_the_plain_socket(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    def main() -> bytes:
        left, right = socket.socketpair()
        server_side: Chan[bytes] = Chan(1)

        def server() -> None:
            with server_context.wrap_socket(right, server_side=True) as tls:
                tls.unwrap().close()
                server_side.send(b"unwrapped")

        go(server)
        with client_context.wrap_socket(left, server_hostname="localhost") as tls:
            plain = tls.unwrap()
            plain.close()
        return recv_within(server_side)  # type: ignore[no-any-return]

    assert run(main) == b"unwrapped"
