"""Go by Example: Channel Directions (https://gobyexample.com/channel-directions),
ported to goroutines.

Parameters typed SendChan or RecvChan say whether a function only sends on a
channel or only receives from it; a type checker (mypy) rejects the other use.

Run it with:  python examples/gobyexample/channel_directions.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, SendChan


def ping(pings: SendChan[str], msg: str) -> None:
    """Only sends: calling pings.recv() here would be a type error."""
    pings.send(msg)


def pong(pings: RecvChan[str], pongs: SendChan[str]) -> None:
    """Receives from one channel and sends what it got on the other."""
    msg = pings.recv()
    assert msg is not None  # None would mean pings was closed
    pongs.send(msg)


def main() -> None:
    pings: Chan[str] = Chan(1)
    pongs: Chan[str] = Chan(1)
    # A Chan is both a SendChan and a RecvChan, so it can be passed to either
    # kind of parameter as it is; send_only()/recv_only() make a restricted view.
    ping(pings, "passed message")
    pong(pings.recv_only(), pongs.send_only())
    print(pongs.recv())


if __name__ == "__main__":
    goroutines.run(main)
