# Go: the sync.Once example of The Go Memory Model (doc/go_mem.html)
# location: attribute
# expect: no race
"""The return of once.do's function happens before every once.do returns:
both goroutines read what setup wrote, whichever ran it."""

from goroutines import Chan, go
from goroutines.sync import Once


class State:
    def __init__(self) -> None:
        self.a = ""


state = State()
once = Once()
done: Chan[bool] = Chan(2)


def setup() -> None:
    state.a = "hello, world"


def doprint() -> None:
    once.do(setup)
    assert state.a == "hello, world"
    done.send(True)


def main() -> None:
    go(doprint)
    go(doprint)
    done.recv()
    done.recv()


main()
