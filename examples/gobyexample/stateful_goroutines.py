"""Go by Example: Stateful Goroutines (https://gobyexample.com/stateful-goroutines),
ported to goroutines.

Instead of a lock, one goroutine owns the state and everyone else asks it,
over channels, to read or write.

Run it with:  python examples/gobyexample/stateful_goroutines.py
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import goroutines
from goroutines import Chan, RecvChan, SendChan, atomic, go, select
from goroutines import time as gotime


@dataclass
class ReadOp:
    """A request to read `key`; the owner answers on `resp`."""

    key: int
    resp: Chan[int] = field(default_factory=Chan)


@dataclass
class WriteOp:
    """A request to store `val` under `key`; the owner confirms on `resp`."""

    key: int
    val: int
    resp: Chan[bool] = field(default_factory=Chan)


def owner(reads: RecvChan[ReadOp], writes: RecvChan[WriteOp]) -> None:
    """The only goroutine that ever touches `state`, so it needs no lock."""
    state: dict[int, int] = {}
    while True:
        index, op = select(reads.recv, writes.recv)
        if index == 0:
            op.resp.send(state.get(op.key, 0))
        else:
            state[op.key] = op.val
            op.resp.send(True)


def reader(reads: SendChan[ReadOp], read_ops: atomic.Int) -> None:
    while True:
        read = ReadOp(key=random.randrange(5))
        reads.send(read)
        read.resp.recv()
        read_ops.add(1)
        gotime.sleep(0.001)


def writer(writes: SendChan[WriteOp], write_ops: atomic.Int) -> None:
    while True:
        write = WriteOp(key=random.randrange(5), val=random.randrange(100))
        writes.send(write)
        write.resp.recv()
        write_ops.add(1)
        gotime.sleep(0.001)


def main() -> None:
    # Counted with atomics so main can read them while the goroutines run.
    read_ops = atomic.Int()
    write_ops = atomic.Int()

    reads: Chan[ReadOp] = Chan()
    writes: Chan[WriteOp] = Chan()
    go(owner, reads.recv_only(), writes.recv_only())

    # 100 readers and 10 writers hammering the owner (the same mix as Go's example).
    for _ in range(100):
        go(reader, reads.send_only(), read_ops)
    for _ in range(10):
        go(writer, writes.send_only(), write_ops)

    # Let them work for a while (Go's example: one second), then report. The
    # goroutines are still looping; they end with the run when main returns.
    gotime.sleep(0.2)
    print("readOps:", read_ops.load())
    print("writeOps:", write_ops.load())


if __name__ == "__main__":
    goroutines.run(main)
