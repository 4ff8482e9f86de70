# Go: TestRaceAfterFunc3 (sync_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 15 / write line 21
"""Two after_func callbacks are ordered in time only, not by happens-before."""

from goroutines import Chan, time

x = 0
c: Chan[bool] = Chan(2)


def first() -> None:
    global x
    x = 1
    c.send(True)


def second() -> None:
    global x
    x = 2
    c.send(True)


def main() -> None:
    time.after_func(0.01, first)
    time.after_func(0.02, second)
    c.recv()
    c.recv()


main()
