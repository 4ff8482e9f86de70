"""Go by Example: Timers (https://gobyexample.com/timers), ported to goroutines.

A Timer delivers one value on its channel `c` after a delay; unlike a plain
sleep it can be stopped before it fires.

Run it with:  python examples/gobyexample/timers.py
"""

from __future__ import annotations

import goroutines
from goroutines import go
from goroutines import time as gotime


def main() -> None:
    # Go's example waits 2 s and 1 s; these delays are a tenth of that.
    timer1 = gotime.Timer(0.2)
    # Blocks until the timer fires and sends the firing time.
    timer1.c.recv()
    print("Timer 1 fired")

    timer2 = gotime.Timer(0.1)

    def wait_for_timer2() -> None:
        timer2.c.recv()
        print("Timer 2 fired")  # never printed: the timer is stopped first

    go(wait_for_timer2)
    # stop() returns True when it kept the timer from firing.
    if timer2.stop():
        print("Timer 2 stopped")

    # Wait past timer2's original deadline to show that it really never fires.
    gotime.sleep(0.2)


if __name__ == "__main__":
    goroutines.run(main)
