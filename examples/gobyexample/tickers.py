"""Go by Example: Tickers (https://gobyexample.com/tickers), ported to goroutines.

A Ticker sends the time on its channel `c` at a regular interval until it is
stopped.

Run it with:  python examples/gobyexample/tickers.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go, select
from goroutines import time as gotime

INTERVAL = 0.05  # Go's example ticks every 500 ms; a tenth of that here


def main() -> None:
    started = gotime.now()
    ticker = gotime.Ticker(INTERVAL)
    done: Chan[bool] = Chan()

    def report_ticks() -> None:
        # Wait for either a tick or the signal to stop, whichever comes first.
        while True:
            index, tick = select(done.recv, ticker.c.recv)
            if index == 0:
                return
            # A tick carries its firing time on the goroutines.time.now() clock.
            print(f"Tick at +{tick - started:.3f} s")

    go(report_ticks)

    # Let about three ticks go by, then stop the ticker and the goroutine.
    gotime.sleep(3.2 * INTERVAL)
    ticker.stop()
    done.send(True)
    print("Ticker stopped")


if __name__ == "__main__":
    goroutines.run(main)
