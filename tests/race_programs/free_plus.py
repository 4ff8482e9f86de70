# Go: TestNoRacePlus (mop_test.go)
# location: global
# expect: no race
"""Two goroutines read the same globals and write different ones."""

from goroutines import Chan, go

x = 0
y = 0
z = 0
f = 0
ch: Chan[int] = Chan(2)


def first() -> None:
    global y
    y = x + z
    ch.send(1)


def second() -> None:
    global f
    f = z + x
    ch.send(1)


def main() -> None:
    global x, z
    x, z = 1, 2  # before go: ordered before both readers
    go(first)
    go(second)
    ch.recv()
    ch.recv()


main()
