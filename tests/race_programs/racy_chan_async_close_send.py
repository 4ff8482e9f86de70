# Go: TestRaceChanAsyncCloseSend (chan_test.go)
# location: item
# expect: 1 race
# race: item 'v' of dict: write line 15 / write line 26
"""Sends on a buffered channel until one fails because it was closed: the
failed send does not synchronise with the close."""

from goroutines import Chan, ClosedChannelError, go

state = {"v": 0}
c: Chan[int] = Chan(10)


def closer() -> None:
    state["v"] = 1
    c.close()


def main() -> None:
    go(closer)
    try:
        while True:
            c.send(0)
    except ClosedChannelError:
        pass
    state["v"] = 2


main()
