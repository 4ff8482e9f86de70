# Go: TestNoRaceRWMutexMultipleReaders (rwmutex_test.go)
# location: item
# expect: no race
"""Readers that only read under the read lock, a writer under the write lock."""

from goroutines import Chan, go
from goroutines.sync import RWMutex

data = [0]
mu = RWMutex()
ch: Chan[bool] = Chan(4)


def writer() -> None:
    with mu:
        data[0] = 2
        ch.send(True)


def reader(k: int) -> None:
    mu.rlock()
    y = data[0] + k
    mu.runlock()
    assert y >= k
    ch.send(True)


def main() -> None:
    go(writer)
    go(reader, 1)
    go(reader, 2)
    go(reader, 3)
    for _ in range(4):
        ch.recv()


main()
