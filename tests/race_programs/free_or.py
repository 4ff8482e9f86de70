# Go: TestNoRaceOr (mop_test.go)
# location: global
# expect: no race
"""`y == 0 or x == 1` never reads x: the short circuit skips it."""

from goroutines import Chan, go

x = 0
y = 0
c: Chan[bool] = Chan()


def writer() -> None:
    global x
    x = 1
    c.send(True)


def main() -> None:
    go(writer)
    _ = y == 0 or x == 1
    c.recv()


main()
