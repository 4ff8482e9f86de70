# Go: TestRaceCond (sync_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of State object: write line 37 / write line 49
"""The waiter's write after it unlocked races with the signaller's later
write under the mutex (the lock orders the unlock before it, not the
waiter's write after the unlock). Go sleeps 10 ms to let the waiter leave
its loop before the second lock; here the waiter says so on a channel before
its write, which orders only what came before the send."""

from goroutines import Chan, go, time
from goroutines.sync import Cond, Mutex


class State:
    def __init__(self) -> None:
        self.x = 0
        self.condition = 0


state = State()
done: Chan[bool] = Chan()
left: Chan[bool] = Chan(1)
mu = Mutex()
cond = Cond(mu)


def signaller() -> None:
    time.sleep(0.01)  # as Go: let the waiter enter cond.wait
    state.x = 1
    mu.lock()
    state.condition = 1
    cond.signal()
    mu.unlock()
    left.recv()
    mu.lock()
    state.x = 3
    mu.unlock()
    done.send(True)


def main() -> None:
    go(signaller)
    mu.lock()
    while state.condition != 1:
        cond.wait()
    mu.unlock()
    left.send(True)
    state.x = 2
    done.recv()


main()
