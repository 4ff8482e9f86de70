# Go: TestRaceWaitGroupWrongWait (waitgroup_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 20 / write line 29
"""Incorrect use, add called too late in the goroutines: nothing orders the
two goroutines' writes."""

from goroutines import Chan, go, runtime
from goroutines.sync import WaitGroup

x = 0
wg = WaitGroup()
c: Chan[bool] = Chan(2)


def first() -> None:
    global x
    wg.add(1)
    runtime.gosched()
    x = 1
    wg.done()
    c.send(True)


def second() -> None:
    global x
    wg.add(1)
    runtime.gosched()
    x = 2
    wg.done()
    c.send(True)


def main() -> None:
    go(first)
    go(second)
    wg.wait()
    c.recv()
    c.recv()


main()
