# Go: TestRaceFuncItself (mop_test.go)
# location: global
# expect: 1 race
# race: global 'f' of module __main__: read line 24 / write line 31
"""A global that holds a function is a location like any other: calling it
reads it, rebinding it writes it."""

from goroutines import Chan, go


def nothing() -> None:
    pass


def other_nothing() -> None:
    pass


f = nothing
c: Chan[bool] = Chan()


def caller() -> None:
    f()
    c.send(True)


def main() -> None:
    global f
    go(caller)
    f = other_nothing
    c.recv()


main()
