# Go: TestNoRaceMutexExampleFromHtml (mutex_test.go)
# location: global
# expect: no race
"""The Go Memory Model's mutex example: the n-th unlock happens before the
(n+1)-th lock returns."""

from goroutines import go
from goroutines.sync import Mutex

a = ""
lock = Mutex()


def f() -> None:
    global a
    a = "hello, world"
    lock.unlock()


def main() -> None:
    lock.lock()
    go(f)
    lock.lock()
    assert a == "hello, world"


main()
