# Go: TestRaceChanSyncCloseSend (chan_test.go)
# location: global
# expect: 1 race
# race: global 'v' of module __main__: write line 18 / write line 27
"""A send that fails because the channel was closed does not synchronise with
the close."""

from contextlib import suppress

from goroutines import Chan, ClosedChannelError, go

v = 0
c: Chan[int] = Chan()


def closer() -> None:
    global v
    v = 1
    c.close()


def main() -> None:
    global v
    go(closer)
    with suppress(ClosedChannelError):  # Go: a deferred recover
        c.send(0)  # nobody receives: returns only by raising once c is closed
    v = 2


main()
