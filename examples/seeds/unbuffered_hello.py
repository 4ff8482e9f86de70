"""Seed 004, "Concurrency vs parallelism in Go", section "Channels:
communicating between goroutines", ported to goroutines.

An unbuffered channel is a rendezvous: the goroutine's send waits for main's
receive, and main's receive waits for the send.

Run it with:  python examples/seeds/unbuffered_hello.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go


def main() -> None:
    ch: Chan[str] = Chan()  # Go: make(chan string)

    def greet() -> None:
        ch.send("hello from goroutine")  # blocks until main receives

    go(greet)

    msg = ch.recv()  # blocks until the goroutine sends
    print(msg)


if __name__ == "__main__":
    goroutines.run(main)
