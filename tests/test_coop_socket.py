"""Cooperative ``socket`` after ``goroutines.patch()``: plain blocking socket
code and libraries built on it scale to thousands of goroutines; outside
goroutines sockets behave as before."""

from __future__ import annotations

import errno
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import PATIENCE, recv_within, wait_until_blocked

import goroutines
from goroutines import Chan, go, run, sync
from goroutines._coop import socket as coop_socket

goroutines.patch()


# ---- a local HTTP server on plain threads ------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 2048  # 1,000 clients connect at once
    daemon_threads = True


@pytest.fixture
def http_server() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(120)
def test_a_thousand_goroutines_fetch_with_urllib_on_one_worker(http_server: str) -> None:
    count = 1000

    def main() -> list[bytes]:
        bodies: Chan[bytes] = Chan(count)

        def fetch(i: int) -> None:
            with urllib.request.urlopen(f"{http_server}/page/{i}", timeout=60) as response:
                bodies.send(response.read())

        group = sync.WaitGroup()
        for i in range(count):
            group.go(fetch, i)
        group.wait()
        return sorted(bodies.recv() for _ in range(count))  # type: ignore[type-var]

    assert run(main, gomaxprocs=1) == sorted(f"/page/{i}".encode() for i in range(count))


@pytest.mark.timeout(120)
def test_requests_sessions_fetch_concurrently_on_one_worker(http_server: str) -> None:
    """``requests`` (urllib3 underneath: its own socket and wait code) works
    unchanged, one session per goroutine."""
    import requests  # a test dependency (pyproject's "test" extra)

    count = 200

    def main() -> list[str]:
        bodies: Chan[str] = Chan(count)

        def fetch(i: int) -> None:
            with requests.Session() as session:
                for attempt in range(2):  # a second request on the kept-alive connection
                    response = session.get(f"{http_server}/r/{i}/{attempt}", timeout=60)
                    response.raise_for_status()
                bodies.send(response.text)

        group = sync.WaitGroup()
        for i in range(count):
            group.go(fetch, i)
        group.wait()
        return sorted(bodies.recv() for _ in range(count))  # type: ignore[type-var]

    assert run(main, gomaxprocs=1) == sorted(f"/r/{i}/1" for i in range(count))


# ---- an echo server and its clients, all goroutines ------------------------------------------


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


def _serve(listener: socket.socket) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:  # the listener was closed: stop serving
            return
        go(_echo, conn)


@pytest.mark.timeout(120)
@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_an_echo_server_and_a_thousand_clients_in_one_process(procs: int) -> None:
    clients = 1000
    rounds = 3

    def client(port: int, i: int, replies: Chan[bool]) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            ok = True
            for r in range(rounds):
                message = f"client {i} round {r}\n".encode()
                conn.sendall(message)
                received = b""
                while len(received) < len(message):
                    received += conn.recv(4096)
                ok = ok and received == message
            replies.send(ok)

    def main() -> int:
        listener = socket.create_server(("127.0.0.1", 0), backlog=2048)
        go(_serve, listener)
        port = listener.getsockname()[1]
        replies: Chan[bool] = Chan(clients)
        for i in range(clients):
            go(client, port, i, replies)
        good = sum(recv_within(replies, 60) for _ in range(clients))
        listener.close()
        return good

    assert run(main, gomaxprocs=procs) == clients


def test_sendall_of_a_large_payload_interleaves_with_the_reader() -> None:
    payload = bytes(range(256)) * 40_000  # 10 MB: far more than the socket buffers

    def main() -> bool:
        left, right = socket.socketpair()
        go(left.sendall, payload)
        received = bytearray()
        while len(received) < len(payload):
            received += right.recv(1 << 16)
        left.close()
        right.close()
        return bytes(received) == payload

    assert run(main)


def test_makefile_reads_lines_cooperatively() -> None:
    def main() -> list[bytes]:
        left, right = socket.socketpair()
        lines: Chan[bytes] = Chan(3)

        def reader() -> None:
            with left.makefile("rb") as stream:
                for _ in range(3):
                    lines.send(stream.readline())

        go(reader)
        wait_until_blocked(1, "IO wait")
        right.sendall(b"one\ntwo\n")
        right.sendall(b"three\n")
        got = [recv_within(lines) for _ in range(3)]
        left.close()
        right.close()
        return got

    assert run(main) == [b"one\n", b"two\n", b"three\n"]


def test_connect_to_a_closed_port_raises_connection_refused() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    def main() -> int:
        sock = socket.socket()
        with sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("127.0.0.1", port))
        with socket.socket() as again:
            return again.connect_ex(("127.0.0.1", port))

    assert run(main) == errno.ECONNREFUSED


def test_accept_with_a_timeout_raises_timeout_error() -> None:
    def main() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            listener.settimeout(0.02)
            with pytest.raises(TimeoutError, match="timed out"):
                listener.accept()

    run(main)


def test_a_non_blocking_socket_still_raises_blocking_io_error_in_a_goroutine() -> None:
    def main() -> None:
        left, right = socket.socketpair()
        with left, right:
            left.setblocking(False)
            with pytest.raises(BlockingIOError):
                left.recv(1)

    run(main)


def test_timeouts_read_back_as_set() -> None:
    with socket.socket() as sock:
        assert sock.gettimeout() is None and sock.getblocking() and sock.timeout is None
        sock.settimeout(2.5)
        assert sock.gettimeout() == 2.5 and sock.timeout == 2.5 and sock.getblocking()
        sock.setblocking(False)
        assert sock.gettimeout() == 0.0 and not sock.getblocking()
        with pytest.raises(ValueError, match="out of range"):
            sock.settimeout(-1)
        with pytest.raises(TypeError):
            sock.settimeout("1")  # type: ignore[arg-type]


def test_sockets_are_the_cooperative_class_after_patch() -> None:
    with socket.socket() as sock:
        assert isinstance(sock, coop_socket.socket)
    left, right = socket.socketpair()
    with left, right:
        assert isinstance(left, coop_socket.socket)
    listener = socket.create_server(("127.0.0.1", 0))
    with listener, socket.create_connection(listener.getsockname()) as client:
        conn, _ = listener.accept()
        with conn:
            assert isinstance(client, coop_socket.socket)
            assert isinstance(conn, coop_socket.socket)


# ---- outside goroutines: as before ----------------------------------------------------------


def test_a_plain_thread_blocks_in_recv_until_data_arrives() -> None:
    left, right = socket.socketpair()
    with left, right:
        timer = threading.Timer(0.05, right.sendall, (b"late",))
        timer.start()
        assert left.recv(4) == b"late"
        timer.join()


def test_a_plain_thread_gets_timeout_error_at_its_timeout() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.settimeout(0.05)
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="timed out"):
            left.recv(1)
        assert time.monotonic() - start >= 0.04


def test_a_plain_thread_non_blocking_socket_raises_blocking_io_error() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.setblocking(False)
        with pytest.raises(BlockingIOError):
            left.recv(1)


@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_a_plain_thread_talks_to_a_goroutine_server() -> None:
    """The same socket objects work from a goroutine and from a plain thread."""
    listener = socket.create_server(("127.0.0.1", 0))

    def main() -> None:
        go(_serve, listener)
        replies: Chan[bytes] = Chan(1)

        def plain_client() -> None:
            with socket.create_connection(listener.getsockname(), timeout=PATIENCE) as conn:
                conn.sendall(b"from a thread")
                replies.send(conn.recv(100))

        threading.Thread(target=plain_client, daemon=True).start()
        assert recv_within(replies) == b"from a thread"
        listener.close()

    run(main)


# ---- name look-ups ---------------------------------------------------------------------------


def test_getaddrinfo_resolves_localhost_in_a_goroutine() -> None:
    def main() -> set[str]:
        infos = socket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)
        return {info[4][0] for info in infos}

    assert "127.0.0.1" in run(main)


@pytest.mark.allow_goroutine_leaks  # the server goroutine is abandoned in accept
def test_gethostbyname_and_connect_by_host_name() -> None:
    def main() -> tuple[str, bytes]:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            go(lambda: _echo(listener.accept()[0]))
            with socket.socket() as conn:
                conn.connect(("localhost", listener.getsockname()[1]))
                conn.sendall(b"by name")
                return socket.gethostbyname("localhost"), conn.recv(100)

    address, echoed = run(main)
    assert address.startswith("127.") and echoed == b"by name"


def test_a_look_up_parks_only_its_goroutine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow resolver runs on a helper thread: other goroutines go on running
    on the single worker meanwhile (here, one releases the resolver)."""
    release = threading.Event()
    resolver_threads: list[int] = []

    def slow_getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        resolver_threads.append(threading.get_ident())
        assert release.wait(PATIENCE), "the look-up was never released"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", args[1]))]

    monkeypatch.setattr(coop_socket, "_getaddrinfo", slow_getaddrinfo)

    def main() -> tuple[Any, int]:
        results: Chan[Any] = Chan(1)
        go(lambda: results.send(socket.getaddrinfo("slow.example", 443)))
        wait_until_blocked(1, "blocking call")
        release.set()  # only possible because this goroutine kept running
        return recv_within(results), threading.get_ident()

    infos, worker_thread = run(main, gomaxprocs=1)
    assert infos[0][4] == ("10.0.0.1", 443)
    assert resolver_threads and resolver_threads[0] != worker_thread


def test_numeric_addresses_skip_the_helper_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a numeric address went through goroutines.blocking")

    monkeypatch.setattr(coop_socket, "blocking", refuse)
    assert run(lambda: socket.getaddrinfo("127.0.0.1", 80))[0][4] == ("127.0.0.1", 80)
    assert run(lambda: socket.gethostbyname("127.0.0.1")) == "127.0.0.1"
