# Go: TestRaceSelect2 (select_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of Box object: write line 22 / write line 30
"""A close orders what came before it, not what the closer does after."""

from goroutines import Chan, go, select


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
compl: Chan[bool] = Chan()
c: Chan[bool] = Chan()
c1: Chan[bool] = Chan()


def receiver() -> None:
    box.x = 1
    select(c.recv, c1.recv)
    compl.send(True)


def main() -> None:
    go(receiver)
    c.close()
    box.x = 2
    compl.recv()


main()
