# Go: TestNoRaceSelect2 (select_test.go)
# location: attribute
# expect: no race
"""A close happens before a select whose receive case returns because of it."""

from goroutines import Chan, go, runtime, select


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
compl: Chan[bool] = Chan()
c: Chan[bool] = Chan()
c1: Chan[bool] = Chan()


def receiver() -> None:
    select(c.recv, c1.recv)
    box.x = 1
    compl.send(True)


def main() -> None:
    go(receiver)
    box.x = 2
    c.close()
    runtime.gosched()
    compl.recv()


main()
