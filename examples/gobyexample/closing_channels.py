"""Go by Example: Closing Channels (https://gobyexample.com/closing-channels),
ported to goroutines.

Closing a channel tells its receivers that no more values will come; recv_ok()
reports it with ok=False once the buffered values are drained.

Run it with:  python examples/gobyexample/closing_channels.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import Chan, RecvChan, SendChan, go


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def worker(jobs: RecvChan[int], done: SendChan[bool]) -> None:
    """Handle jobs until the channel is closed, then report back."""
    while True:
        job, more = jobs.recv_ok()
        if not more:
            echo("received all jobs")
            done.send(True)
            return
        echo("received job", job)


def main() -> None:
    jobs: Chan[int] = Chan(5)
    done: Chan[bool] = Chan()
    go(worker, jobs.recv_only(), done.send_only())

    for job in range(1, 4):
        jobs.send(job)
        echo("sent job", job)
    # Only the sending side closes; the worker sees the close after the three jobs.
    jobs.close()
    echo("sent all jobs")

    # Wait for the worker (the synchronization of channel_synchronization.py).
    done.recv()

    # A closed, drained channel answers every receive at once with ok=False.
    _, ok = jobs.recv_ok()
    echo("received more jobs:", ok)


if __name__ == "__main__":
    goroutines.run(main)
