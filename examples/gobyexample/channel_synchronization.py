"""Go by Example: Channel Synchronization
(https://gobyexample.com/channel-synchronization), ported to goroutines.

main waits for a goroutine to finish by receiving the value the goroutine
sends when it is done.

Run it with:  python examples/gobyexample/channel_synchronization.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, SendChan, go
from goroutines import time as gotime


def worker(done: SendChan[bool]) -> None:
    """Do some work, then tell whoever is waiting that it is finished."""
    print("working...", end="", flush=True)
    gotime.sleep(0.1)  # Go's version takes a second; a tenth shows the same thing
    print("done")
    done.send(True)


def main() -> None:
    # One slot, so the worker's final send never has to wait for main.
    done: Chan[bool] = Chan(1)
    go(worker, done.send_only())

    # Without this receive main would return at once and the worker would be
    # abandoned before it printed anything.
    done.recv()


if __name__ == "__main__":
    goroutines.run(main)
