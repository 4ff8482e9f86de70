# Go: TestRaceFuncArgument2 (mop_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 15 / read line 25
"""go(f, x) reads x in the goroutine that calls go, racing with a write."""

from goroutines import Chan, go

x = 0
ch: Chan[bool] = Chan(2)


def writer() -> None:
    global x
    x = 42
    ch.send(True)


def taker(y: int) -> None:
    ch.send(True)


def main() -> None:
    go(writer)
    go(taker, x)
    ch.recv()
    ch.recv()


main()
