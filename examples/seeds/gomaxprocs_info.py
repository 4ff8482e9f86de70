"""Seed 002, "Go Goroutines and Concurrency Fundamentals", section "GOMAXPROCS:
Controlling Parallelism", and seed 004, "Concurrency vs parallelism in Go"
(the GMP model), ported to goroutines.

goroutines.runtime.gomaxprocs(n) sets how many OS threads run goroutines and
returns the previous value; gomaxprocs(0) only reads it.

Run it with:  python examples/seeds/gomaxprocs_info.py
Try also:     GOMAXPROCS=2 python examples/seeds/gomaxprocs_info.py
"""

from __future__ import annotations

import goroutines
from goroutines import runtime


def main() -> None:
    # The starting value comes from the GOMAXPROCS environment variable if it
    # is set; otherwise it is 1 on a CPython with a GIL and the number of CPUs
    # on a free-threaded one (Go's default is always the number of CPUs).
    print("GOMAXPROCS:", runtime.gomaxprocs(0))

    # Change it for the rest of this run; the old value comes back.
    previous = runtime.gomaxprocs(4)
    print(f"GOMAXPROCS set to 4 (was {previous})")

    # Use every CPU this process may run on.
    runtime.gomaxprocs(runtime.num_cpu())
    print("GOMAXPROCS = NumCPU:", runtime.gomaxprocs(0) == runtime.num_cpu())

    # Only main exists so far.
    print("Goroutines:", runtime.num_goroutine())


if __name__ == "__main__":
    goroutines.run(main)
