"""Go by Example: Non-Blocking Channel Operations
(https://gobyexample.com/non-blocking-channel-operations), ported to goroutines.

A select with the `default` case never blocks: it takes a ready case if there
is one, and otherwise returns the default's index at once.

Run it with:  python examples/gobyexample/non_blocking_channel_operations.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, default, select


def main() -> None:
    messages: Chan[str] = Chan()
    signals: Chan[bool] = Chan()

    # A receive that gives up at once: nothing has been sent, so default wins.
    index, msg = select(messages.recv, default)
    if index == 0:
        print("received message", msg)
    else:
        print("no message received")

    # A send that gives up at once: the channel is unbuffered and no goroutine
    # is waiting to receive, so the send cannot proceed.
    msg = "hi"
    index, _ = select((messages.send, msg), default)
    if index == 0:
        print("sent message", msg)
    else:
        print("no message sent")

    # Several cases and a default: a non-blocking select over many channels.
    index, value = select(messages.recv, signals.recv, default)
    match index:
        case 0:
            print("received message", value)
        case 1:
            print("received signal", value)
        case _:
            print("no activity")


if __name__ == "__main__":
    goroutines.run(main)
