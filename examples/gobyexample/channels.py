"""Go by Example: Channels (https://gobyexample.com/channels), ported to goroutines.

An unbuffered channel carries one value from a goroutine to main; the send and
the receive meet, so the receive also waits for the sender.

Run it with:  python examples/gobyexample/channels.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go


def main() -> None:
    # Chan[str]() is Go's make(chan string): unbuffered, typed for the checker.
    messages: Chan[str] = Chan()

    # The sender blocks in send() until main is ready to receive.
    go(messages.send, "ping")

    # recv() blocks until a value arrives, so no sleep is needed to wait for it.
    msg = messages.recv()
    print(msg)


if __name__ == "__main__":
    goroutines.run(main)
