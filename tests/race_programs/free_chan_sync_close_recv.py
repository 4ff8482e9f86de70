# Go: TestNoRaceChanSyncCloseRecv (chan_test.go)
# location: global
# expect: no race
"""A close happens before a plain receive (unbuffered) that returns None
because the channel is closed; Go's deferred write becomes a `finally`."""

from goroutines import Chan, go

v = 0
c: Chan[int] = Chan()


def closer() -> None:
    global v
    v = 1
    c.close()


def main() -> None:
    global v
    go(closer)
    try:
        c.recv()
    finally:
        v = 2


main()
