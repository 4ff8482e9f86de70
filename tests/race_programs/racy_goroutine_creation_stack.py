# Go: TestRaceGoroutineCreationStack (sync_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 16 / write line 35
"""A race in a goroutine created by a chain of four `go` calls (Go checks the
creation stack by eye; here the harness checks the race)."""

from goroutines import Chan, go

x = 0
ch: Chan[bool] = Chan(1)


def f1() -> None:
    global x
    x = 1
    ch.send(True)


def f2() -> None:
    go(f1)


def f3() -> None:
    go(f2)


def f4() -> None:
    go(f3)


def main() -> None:
    global x
    go(f4)
    x = 2
    ch.recv()


main()
