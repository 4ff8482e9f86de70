# Go: TestRaceAppendLenRW (mop_test.go)
# location: global
# expect: 1 race
# race: global 'a' of module __main__: write line 16 / read line 22
"""Rebinding a global to a longer list races with len() of it (Go's
`a = append(a, 1)`)."""

from goroutines import Chan, go

a: list[int] = []
ch: Chan[bool] = Chan()


def appender() -> None:
    global a
    a = [*a, 1]
    ch.send(True)


def main() -> None:
    go(appender)
    _ = len(a)
    ch.recv()


main()
