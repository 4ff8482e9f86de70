# Go: TestNoRaceRWMutexTransitive (rwmutex_test.go)
# location: global
# expect: no race
"""Every reader's runlock happens before the writer's next lock, also the
reader that was not the last one out."""

from goroutines import Chan, go, time
from goroutines.sync import RWMutex

x = 0
mu = RWMutex()
ch: Chan[bool] = Chan(2)


def reader(delay: float) -> None:
    time.sleep(delay)
    mu.rlock()
    _ = x
    mu.runlock()
    ch.send(True)


def main() -> None:
    global x
    go(reader, 0.0)
    go(reader, 0.01)
    time.sleep(0.02)
    mu.lock()
    x = 42
    mu.unlock()
    ch.recv()
    ch.recv()


main()
