"""Go by Example: Range over Channels (https://gobyexample.com/range-over-channels),
ported to goroutines.

`for value in ch` receives until the channel is closed and empty, like Go's
`for value := range ch`.

Run it with:  python examples/gobyexample/range_over_channels.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan


def main() -> None:
    queue: Chan[str] = Chan(2)
    queue.send("one")
    queue.send("two")
    # Closing does not throw away what is buffered: the loop still gets both
    # values, then ends instead of blocking for a third.
    queue.close()

    for elem in queue:
        print(elem)


if __name__ == "__main__":
    goroutines.run(main)
