# Go: TestNoRaceProducerConsumerUnbuffered (chan_test.go)
# location: global
# expect: no race
"""A task run by a worker goroutine, its completion reported on a channel."""

from collections.abc import Callable

from goroutines import Chan, go

x = 0


class Task:
    def __init__(self, f: Callable[[], None], done: Chan[bool]) -> None:
        self.f = f
        self.done = done


queue: Chan[Task] = Chan()


def worker() -> None:
    task = queue.recv()
    assert task is not None
    task.f()
    task.done.send(True)


def doit(f: Callable[[], None]) -> None:
    done: Chan[bool] = Chan(1)
    queue.send(Task(f, done))
    done.recv()


def set_x() -> None:
    global x
    x = 1


def main() -> None:
    go(worker)
    doit(set_x)
    _ = x


main()
