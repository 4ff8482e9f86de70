# Go: TestRaceMutexRWMutex (rwmutex_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 19 / write line 26
"""A Mutex and an RWMutex do not order each other's critical sections."""

from goroutines import Chan, go
from goroutines.sync import Mutex, RWMutex

x = 0
mu1 = Mutex()
mu2 = RWMutex()
ch: Chan[bool] = Chan(2)


def first() -> None:
    global x
    with mu1:
        x = 1
        ch.send(True)


def second() -> None:
    global x
    mu2.lock()
    x = 2
    mu2.unlock()
    ch.send(True)


def main() -> None:
    go(first)
    go(second)
    ch.recv()
    ch.recv()


main()
