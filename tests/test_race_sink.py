"""The functions instrumented code calls (``goroutines._race.sink``): the
compiled ones (``_sink.c``) where built, else detector.py's, the reference.

Both must behave the same: ``test_race_detector`` runs every one of its tests
with each; here, whole programs under ``goroutines run --race`` report the
same races with each, and the compiled functions check their arguments.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from goroutines._race import _sink, detector, sink

pytestmark = pytest.mark.timeout(120)

SINKS = ("read_attr", "write_attr", "read_item", "write_item", "read_global", "write_global")


def test_the_compiled_sinks_are_used_unless_pure_python_is_asked_for() -> None:
    if detector.PURE_PYTHON:
        assert not detector.COMPILED
        assert all(getattr(sink, name) is getattr(detector, name) for name in SINKS)
    else:
        assert detector.COMPILED, "goroutines._race._sink was not built (no C compiler?)"
        assert all(getattr(sink, name) is getattr(_sink, name) for name in SINKS)


def test_the_compiled_sinks_are_built_from_the_current_source() -> None:
    # An editable install builds the extension once: a later edit of the C
    # source is not in it until ``pip install -e .`` runs again.
    source = Path(_sink.__file__).with_name("_sink.c")
    assert os.path.getmtime(_sink.__file__) >= os.path.getmtime(source), (
        f"{_sink.__file__} is older than {source}: run pip install -e . again"
    )


def test_outside_a_session_the_compiled_sinks_return_what_the_code_needs() -> None:
    assert detector.active is None
    box, items = object(), [1]
    assert _sink.read_attr(box, "x") is box
    assert _sink.write_item(items, 0) is items
    assert _sink.read_global("name") is None
    assert _sink.write_cell(detector.Cells("f"), "c") is None


@pytest.mark.parametrize("name", [*SINKS, "read_cell", "write_cell"])
def test_the_compiled_sinks_check_their_argument_count(name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name}\(\) takes exactly \d arguments \(3 given\)"):
        getattr(_sink, name)(1, 2, 3)


def test_bind_takes_only_classes_with_those_slots() -> None:
    with pytest.raises(TypeError, match="is not a __slots__ member"):
        _sink.bind({}, None, type("G", (), {"race": None}), detector.Actor, detector._Cell)
    with pytest.raises(TypeError, match="is not a class"):
        _sink.bind({}, None, object(), detector.Actor, detector._Cell)
    with pytest.raises(TypeError, match="globals must be a dict"):
        _sink.bind([], None, object, detector.Actor, detector._Cell)


PROGRAM = """\
import sys
from goroutines import Chan, go
from goroutines.sync import Mutex, WaitGroup

counter = 0
table = {}


class Box:
    __slots__ = ("x",)

    def __init__(self):
        self.x = 0


def racy(box, items, seen):
    global counter
    counter += 1
    box.x += 1
    items[0] = items[1] + 1
    table["k"] = len(table)
    total = 0

    def add():
        nonlocal total
        total += 1

    wg = WaitGroup()
    wg.go(add)
    wg.go(add)
    wg.wait()
    seen.append(sys.modules[__name__].counter)


def quiet(box, lock, out):
    for _ in range(50):  # the same locations, again and again, in one epoch
        with lock:
            box.x += 1
            out.send(box.x)


def main():
    box, items, seen, lock = Box(), [0, 0], [], Mutex()
    wg = WaitGroup()
    for _ in range(2):
        wg.go(racy, box, items, seen)
    wg.wait()
    ordered, out = Box(), Chan(100)
    wg.go(quiet, ordered, lock, out)
    wg.go(quiet, ordered, lock, out)
    wg.wait()
    print(box.x, items, table, ordered.x)


main()
"""


def reports(tmp_path: Path, *, pure: bool) -> tuple[int, str, str]:
    env = {**os.environ, "GOROUTINES_PURE": "1" if pure else ""}
    proc = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--race", "--gomaxprocs", "1", "prog.py"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    return proc.returncode, proc.stdout, re.sub(r"0x[0-9a-f]+", "0x?", proc.stderr)


def test_both_sinks_report_the_same_races_in_a_program(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    compiled, pure = reports(tmp_path, pure=False), reports(tmp_path, pure=True)
    assert compiled == pure, (compiled, pure)
    status, out, err = compiled
    assert status == 66 and out.split()[-1] == "100", (status, out, err)
    for what in [
        "global 'counter' of module __main__",
        "attribute 'x' of Box object",
        "item 0 of list",
        "item 'k' of dict",
        "variable 'total' of racy()",
    ]:
        assert what in err, (what, err)
    assert "Read at global 'counter' of module __main__" in err  # as sys.modules[...].counter
    assert err.rstrip().endswith("Found 6 data race(s)"), err
