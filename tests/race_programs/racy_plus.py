# Go: TestRacePlus (mop_test.go)
# location: global
# expect: 1 race
# race: global 'y' of module __main__: write line 17 / write line 23
"""Two writes of the same sum; the operands are only read."""

from goroutines import Chan, go

x = 0
y = 0
z = 0
ch: Chan[int] = Chan(2)


def first() -> None:
    global y
    y = x + z
    ch.send(1)


def second() -> None:
    global y
    y = x + z + z
    ch.send(1)


def main() -> None:
    global x, z
    x, z = 1, 2  # before go: ordered before both readers
    go(first)
    go(second)
    ch.recv()
    ch.recv()


main()
