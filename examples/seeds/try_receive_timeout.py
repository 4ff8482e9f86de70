"""Seed 004, "Concurrency vs parallelism in Go", sections "select with a
default case (non-blocking)" and "select with a timeout", ported to goroutines.

A select with `default` never waits; a select with a time.after() case waits
at most that long.

Run it with:  python examples/seeds/try_receive_timeout.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, default, go, select
from goroutines import time as gotime


def try_receive(ch: RecvChan[int]) -> tuple[int, bool]:
    """A value if one is ready right now, else (0, False) at once."""
    index, value = select(ch.recv, default)
    if index == 0:
        return value, True
    return 0, False  # channel empty: don't block


def fetch_with_timeout(url: str, request_seconds: float) -> str:
    """The body, or TimeoutError if the request takes longer than 0.2 s."""
    # One slot: if we give up, the late send still completes and the
    # goroutine ends instead of leaking.
    result: Chan[str] = Chan(1)

    def request() -> None:
        gotime.sleep(request_seconds)  # simulated network request
        result.send("response body")

    go(request)

    index, body = select(result.recv, gotime.after(0.2).recv)  # the seed: 2 s
    if index == 0:
        return str(body)
    # Go returns an error value; Python raises one.
    raise TimeoutError(f"request to {url} timed out")


def main() -> None:
    ch: Chan[int] = Chan(1)
    print("empty channel:", try_receive(ch))
    ch.send(7)
    print("after a send:", try_receive(ch))

    for url, seconds in (("https://fast.example", 0.05), ("https://slow.example", 0.3)):
        try:
            print(url, "->", fetch_with_timeout(url, seconds))
        except TimeoutError as err:
            print(url, "->", "error:", err)


if __name__ == "__main__":
    goroutines.run(main)
