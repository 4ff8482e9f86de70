# Go: TestRacePanic (mop_test.go)
# location: item
# expect: 1 race
# race: item 'x' of dict: write line 21 / write line 31
"""Writes in the handlers of two exceptions (Go: deferred recovers from a
division by zero) race like any others."""

from goroutines import Chan, go

state = {"x": 0}
zero = 0
ch: Chan[bool] = Chan(2)


def first() -> None:
    global zero
    try:
        y = 1 // zero
        zero = y
    except ZeroDivisionError:
        state["x"] = 1
    ch.send(True)


def second() -> None:
    global zero
    try:
        y = 1 // zero
        zero = y
    except ZeroDivisionError:
        state["x"] = 2
    ch.send(True)


def main() -> None:
    go(first)
    go(second)
    ch.recv()
    ch.recv()
    if zero != 0:
        raise AssertionError("zero has changed")


main()
