# Go: TestNoRaceCond (sync_test.go)
# location: global
# expect: no race
"""A condition signalled under the mutex: the waiter's return from the wait
loop is ordered after what the signaller did before locking."""

from goroutines import go
from goroutines.sync import Cond, Mutex

x = 0
condition = 0
mu = Mutex()
cond = Cond(mu)


def signaller() -> None:
    global x, condition
    x = 1
    mu.lock()
    condition = 1
    cond.signal()
    mu.unlock()


def main() -> None:
    global x
    go(signaller)
    mu.lock()
    while condition != 1:
        cond.wait()
    mu.unlock()
    x = 2


main()
