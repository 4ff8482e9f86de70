# Go: TestNoRaceChanSyncCloseRecv3 (chan_test.go)
# location: item
# expect: no race
"""A close happens before the end of a `for v in ch` loop over an unbuffered
channel."""

from goroutines import Chan, go

state = {"v": 0}
c: Chan[int] = Chan()


def closer() -> None:
    state["v"] = 1
    c.close()


def main() -> None:
    go(closer)
    for _ in c:
        pass
    state["v"] = 2


main()
