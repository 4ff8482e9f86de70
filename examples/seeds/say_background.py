"""Seed 004, "Concurrency vs parallelism in Go", section "Goroutines" (say),
ported to goroutines.

The same function runs twice at once: once in a new goroutine, once in main.
Each sleep lets the other one print.

Run it with:  python examples/seeds/say_background.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import go
from goroutines import time as gotime


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def say(msg: str) -> None:
    for i in range(3):
        echo(msg, i)
        gotime.sleep(0.1)  # parks only this goroutine


def main() -> None:
    go(say, "background")  # returns immediately
    say("foreground")  # runs in main; when it returns, the program ends


if __name__ == "__main__":
    goroutines.run(main)
