# Go: TestNoRaceSelect4 (select_test.go)
# location: global
# expect: no race
"""TestNoRaceProducerConsumerUnbuffered with selects: a worker goroutine
(left blocked at exit, as in Go) runs a task handed over in a select."""

from collections.abc import Callable

from goroutines import Chan, go, select

x = 0


class Task:
    def __init__(self, f: Callable[[], None], done: Chan[bool]) -> None:
        self.f = f
        self.done = done


queue: Chan[Task] = Chan()
dummy: Chan[bool] = Chan()  # never ready


def worker() -> None:
    while True:
        _, task = select(queue.recv)
        assert isinstance(task, Task)
        task.f()
        task.done.send(True)


def doit(f: Callable[[], None]) -> None:
    done: Chan[bool] = Chan(1)
    select((queue.send, Task(f, done)), dummy.recv)
    select(done.recv, dummy.recv)


def set_x() -> None:
    global x
    x = 1


def main() -> None:
    go(worker)
    doit(set_x)
    _ = x


main()
