"""Go by Example: Channel Buffering (https://gobyexample.com/channel-buffering),
ported to goroutines.

A buffered channel holds up to its capacity of values without a receiver
waiting, so a single goroutine can send and later receive them.

Run it with:  python examples/gobyexample/channel_buffering.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan


def main() -> None:
    # Room for two values: both sends complete even though nobody receives yet.
    messages: Chan[str] = Chan(2)
    messages.send("buffered")
    messages.send("channel")
    print(f"queued {len(messages)} of {messages.cap}")

    # The values come out in the order they went in.
    print(messages.recv())
    print(messages.recv())


if __name__ == "__main__":
    goroutines.run(main)
