"""Go by Example: Context (https://gobyexample.com/context), ported to goroutines.

Go's example is an HTTP handler that stops early when the client goes away.
Here the "server" is a goroutine and each "request" carries a context with a
deadline: a handler that would take longer gives up when the deadline passes.

Run it with:  python examples/gobyexample/context.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, context, go, select
from goroutines import time as gotime

WORK_SECONDS = 0.2  # how long the handler needs to produce its answer (Go: 10 s)


def hello(ctx: context.Context) -> str:
    """The handler: some slow work that stops as soon as ctx is done."""
    print("server: hello handler started")
    try:
        index, _ = select(gotime.after(WORK_SECONDS).recv, ctx.done().recv)
        if index == 0:
            return "hello"
        # ctx.err() says why the context ended: Canceled or DeadlineExceeded.
        err = ctx.err()
        print("server:", err)
        return f"error: {err}"
    finally:
        print("server: hello handler ended")


def request(timeout: float) -> None:
    """Send one request whose context expires `timeout` seconds from now."""
    print(f"client: request with a {timeout:g} s deadline")
    ctx, cancel = context.with_deadline(context.background(), gotime.now() + timeout)
    try:
        response: Chan[str] = Chan(1)
        # Each request is handled in its own goroutine, as net/http does.
        go(lambda: response.send(hello(ctx)))
        print("client: got", repr(response.recv()))
    finally:
        cancel()  # always release the context, even when it already expired


def main() -> None:
    request(timeout=WORK_SECONDS * 3)  # enough time: the handler answers
    request(timeout=WORK_SECONDS / 4)  # too little: the deadline cuts it short


if __name__ == "__main__":
    goroutines.run(main)
