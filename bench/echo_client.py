"""The load generator of the echo benchmark: one client, the same against every server.

    python bench/echo_client.py PORT [--clients N] [--size BYTES] [--warmup S] [--duration S]
                                     [--server-pid PID] [--loop uvloop|asyncio]

Opens ``--clients`` connections to 127.0.0.1:PORT (at most :data:`CONNECTING` at a time, each
retried on failure, so that a full SYN queue costs no one-second retransmit), then every
connection runs a closed loop: send ``--size`` bytes, wait for all of them to come back, check
them, send the next. After ``--warmup`` seconds it counts, for ``--duration`` seconds, the
requests completed and the latency of each (send to last byte back), then stops and prints one
line of JSON (``{"error": ...}`` and exit status 1 when the server hung, closed a connection or
sent wrong bytes).

Written on asyncio protocols (no streams) and run on uvloop when it is installed: a few
microseconds of Python per request, so that the server, not the client, sets the pace. It
reports its own CPU use over the measured window, and the server's when given its pid, so a
reader can tell which side was the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any, cast

from echo_servers import HOST, die_with_parent, raise_fd_limit

#: Connection attempts in flight at once: well under any listen backlog, so no SYN is dropped.
CONNECTING = 64
#: Seconds for one connection attempt, and for all of them together.
CONNECT_TIMEOUT, CONNECT_PHASE_TIMEOUT = 5.0, 60.0
#: Seconds to wait for the first echo on every connection before the warm-up counts.
FIRST_ECHO_TIMEOUT = 30.0


class Failure(Exception):
    """The run cannot give a figure: the server misbehaved or never answered."""


class Load:
    """What every connection shares: the phase of the run and what is measured in it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sending = False  # connections send their next request only while this is set
        self.recording = False  # latencies are kept only while this is set
        self.closing = False  # set once the client closes its connections itself
        self.latencies: list[float] = []
        self.failure: str | None = None
        self.first_echoes = 0  # connections that have had at least one echo
        self.all_echoed = asyncio.Event()  # also set on a failure, to end the wait for it
        self.connections: list[EchoConnection] = []

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        self.sending = False
        self.all_echoed.set()


class EchoConnection(asyncio.Protocol):
    """One client connection: one request in flight at a time, alternating two messages."""

    def __init__(self, load: Load, index: int) -> None:
        self.load = load
        self.index = index
        # Two distinct messages per connection, so a reply that crossed connections or came
        # back twice does not pass for the expected one.
        stamp = f"{index:06d}".encode()
        self.messages = tuple(
            (stamp + bytes([65 + turn]) * load.size)[: load.size] for turn in (0, 1)
        )
        self.turn = 0
        self.partial = bytearray()
        self.sent_at = 0.0
        self.completed = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it

    def send(self, now: float) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            self.load.fail(f"connection {self.index}: closed by the server before a request")
            return
        self.sent_at = now
        self.transport.write(self.messages[self.turn])

    def data_received(self, data: bytes) -> None:
        load = self.load
        if self.partial or len(data) < load.size:  # a request in pieces (large --size)
            self.partial += data
            if len(self.partial) < load.size:
                return
            data = bytes(self.partial)
            self.partial.clear()
        now = time.perf_counter()
        if data != self.messages[self.turn]:
            load.fail(
                f"connection {self.index}: got {data[:80]!r}, expected {self.messages[self.turn]!r}"
            )
            return
        if load.recording:
            load.latencies.append(now - self.sent_at)
        self.completed += 1
        if self.completed == 1:
            load.first_echoes += 1
            if load.first_echoes == len(load.connections):
                load.all_echoed.set()
        if load.sending:
            self.turn ^= 1
            self.sent_at = now
            self.transport.write(self.messages[self.turn])  # type: ignore[union-attr]

    def eof_received(self) -> bool:
        if not self.load.closing:
            self.load.fail(f"connection {self.index}: the server closed it")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.load.closing:
            self.load.fail(f"connection {self.index} lost: {exc or 'closed by the server'}")


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    load = Load(args.size)

    # Connect, a few at a time, retrying until the phase's deadline.
    started = time.perf_counter()
    gate = asyncio.Semaphore(CONNECTING)
    retries = 0

    async def connect(index: int) -> EchoConnection:
        nonlocal retries
        while True:
            async with gate:
                try:
                    _, protocol = await asyncio.wait_for(
                        loop.create_connection(
                            lambda: EchoConnection(load, index), HOST, args.port
                        ),
                        CONNECT_TIMEOUT,
                    )
                    return protocol
                except (OSError, TimeoutError):
                    retries += 1
            await asyncio.sleep(0.05)

    try:
        load.connections = await asyncio.wait_for(
            asyncio.gather(*(connect(i) for i in range(args.clients))), CONNECT_PHASE_TIMEOUT
        )
    except TimeoutError:
        raise Failure(
            f"could not open {args.clients} connections in {CONNECT_PHASE_TIMEOUT:g} s"
        ) from None
    connect_seconds = time.perf_counter() - started
    _check(load)

    # Start every loop, and wait until every connection has been answered once.
    load.sending = True
    now = time.perf_counter()
    for connection in load.connections:
        connection.send(now)
    try:
        await asyncio.wait_for(load.all_echoed.wait(), FIRST_ECHO_TIMEOUT)
    except TimeoutError:
        raise Failure(
            f"only {load.first_echoes} of {args.clients} connections had an echo"
            f" after {FIRST_ECHO_TIMEOUT:g} s"
        ) from None
    _check(load)
    first_echo_seconds = time.perf_counter() - now

    # Warm up, then measure.
    await asyncio.sleep(args.warmup)
    _check(load)
    before = [connection.completed for connection in load.connections]
    server_cpu = ServerCpu(args.server_pid)
    machine_cpu = MachineCpu()
    cpu_started = time.process_time()
    load.recording = True
    window_started = time.perf_counter()
    await asyncio.sleep(args.duration)
    load.recording = False
    window = time.perf_counter() - window_started
    client_cpu = (time.process_time() - cpu_started) / window
    server_share = server_cpu.share(window)
    machine_busy, machine_softirq = machine_cpu.shares(window)
    load.sending = False
    _check(load)
    per_connection = sorted(c.completed - b for c, b in zip(load.connections, before, strict=True))

    load.closing = True
    for connection in load.connections:
        assert connection.transport is not None
        connection.transport.close()
    await asyncio.sleep(0.05)  # let the FINs go out before the loop closes

    latencies = sorted(load.latencies)
    if not latencies:
        raise Failure(f"no request completed in the {window:.2f} s window (the server hung?)")
    return {
        "requests": len(latencies),
        "seconds": window,
        "rps": len(latencies) / window,
        "p50_ms": _percentile(latencies, 50) * 1e3,
        "p90_ms": _percentile(latencies, 90) * 1e3,
        "p99_ms": _percentile(latencies, 99) * 1e3,
        "max_ms": latencies[-1] * 1e3,
        # Requests each connection completed in the window: how evenly the server shared out.
        "idle_connections": sum(count == 0 for count in per_connection),
        "per_connection_min": per_connection[0],
        "per_connection_median": statistics.median(per_connection),
        "per_connection_max": per_connection[-1],
        "connect_seconds": connect_seconds,
        "connect_retries": retries,
        "first_echo_seconds": first_echo_seconds,
        "client_cpu": client_cpu,
        "server_cpu": server_share,
        "machine_cpu": machine_busy,
        "machine_softirq": machine_softirq,
    }


def _check(load: Load) -> None:
    if load.failure is not None:
        raise Failure(load.failure)


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty sequence."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


class ServerCpu:
    """CPU time (user + system, all threads) of another process, from ``/proc/PID/stat``."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start = self._seconds()

    def _seconds(self) -> float | None:
        if self.pid is None:
            return None
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return (utime + stime) / self.ticks

    def share(self, window: float) -> float | None:
        """The server's CPU seconds since this object was made, per second of ``window``."""
        end = self._seconds()
        if self.start is None or end is None:
            return None
        return (end - self.start) / window


class MachineCpu:
    """CPU time of the whole machine (every core, every process, the kernel), from
    ``/proc/stat``: what the two processes' own figures leave out (interrupts, other work)."""

    def __init__(self) -> None:
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start = self._read()

    @staticmethod
    def _read() -> tuple[int, int] | None:
        """(busy, softirq) clock ticks since boot, summed over the cores."""
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                fields = [int(value) for value in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait
        idle = fields[3] + fields[4]
        return sum(fields[:8]) - idle, fields[6]

    def shares(self, window: float) -> tuple[float | None, float | None]:
        """Busy and softirq CPU seconds since this object was made, per second of ``window``."""
        end = self._read()
        if self.start is None or end is None:
            return None, None
        busy, softirq = (e - s for e, s in zip(end, self.start, strict=True))
        return busy / self.ticks / window, softirq / self.ticks / window


def new_loop_factory(name: str) -> tuple[str, Any]:
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            return "asyncio", asyncio.new_event_loop
        return "uvloop", uvloop.new_event_loop
    return "asyncio", asyncio.new_event_loop


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64, help="bytes per request (at least 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured")
    parser.add_argument("--server-pid", type=int, default=None, help="to report its CPU use")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    if args.size < 8:
        parser.error("--size must be at least 8 (each message carries its connection's number)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    die_with_parent()
    raise_fd_limit(args.clients + 64)
    loop_name, loop_factory = new_loop_factory(args.loop)
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            outcome = runner.run(run_load(args))
    except Failure as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    outcome["client_loop"] = loop_name
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
