# Go: TestRaceMapInit (mop_test.go)
# location: global
# expect: 1 race
# race: global 'y' of module __main__: write line 15 / read line 21
"""A key in a dict display is read when the display is built."""

from goroutines import Chan, go

y = 0
c: Chan[bool] = Chan(1)


def writer() -> None:
    global y
    y = 42
    c.send(True)


def main() -> None:
    go(writer)
    x = {0: 42, y: 42}
    assert x
    c.recv()


main()
