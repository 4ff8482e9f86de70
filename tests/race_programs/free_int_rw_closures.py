# Go: TestNoRaceIntRWClosures (mop_test.go)
# location: global
# expect: no race
"""The reader's send happens before main starts the writer."""

from goroutines import Chan, go

x = 0
y = 0
ch: Chan[int] = Chan(1)


def reader() -> None:
    global y
    y = x
    ch.send(1)


def writer() -> None:
    global x
    x = 1
    ch.send(1)


def main() -> None:
    go(reader)
    ch.recv()
    go(writer)
    ch.recv()


main()
