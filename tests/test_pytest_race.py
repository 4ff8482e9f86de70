"""``pytest --goroutines-race`` (the goroutines plugin with the race detector).

Each test runs pytest on a small test file in a subprocess (``pytester``): the
option instruments the test modules (with pytest's assert rewriting kept) and
the package under test, and fails a test during which a race was reported,
with the report, in its call report.
"""

from __future__ import annotations

import pytest
from conftest import PATIENCE, plain_terminal

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.timeout(120)

PACKAGE = """
class Counter:
    def __init__(self):
        self.n = 0

    def bump(self):
        self.n += 1
"""

TESTS = """
import goroutines
from goroutines import go, run
from goroutines.sync import Mutex, WaitGroup

import mypkg


class Box:
    x = 0


def twice(fn):
    def main():
        wg = WaitGroup()
        for _ in range(2):
            wg.go(fn)
        wg.wait()

    return main


def test_racy_here():
    box = Box()

    def bump():
        box.x += 1

    run(twice(bump), gomaxprocs=1)
    assert box.x == 2


def test_racy_in_the_package():
    counter = mypkg.Counter()
    run(twice(counter.bump), gomaxprocs=1, race=True)  # joins the session
    assert counter.n == 2
    assert goroutines.runtime.races() == 2


def test_race_free():
    counter, lock = mypkg.Counter(), Mutex()

    def bump():
        with lock:
            counter.bump()

    run(twice(bump), gomaxprocs=2, race=True)
    assert counter.n == 2  # read after run returns: ordered after the goroutines' writes


def test_asserts_are_still_rewritten():
    box = Box()
    box.x = 1
    assert box.x == 2
"""


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    plain_terminal(monkeypatch)
    pytester.makepyfile(mypkg=PACKAGE, test_it=TESTS)
    return pytester


def runpytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=PATIENCE * 6)


def test_a_racy_test_fails_with_the_report_and_a_race_free_one_passes(
    pytester: pytest.Pytester,
) -> None:
    result = runpytest(pytester, "--goroutines-race")
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_racy_here _*",
            "E   *DataRaceError: 1 data race(s) reported during this test (--goroutines-race)",
            "    ==================",
            "    WARNING: DATA RACE",
            "    Write at attribute 'x' of Box object at 0x* by goroutine 3:",
            "      test_racy_here.<locals>.bump()",
            "          */test_it.py:26",
            "    ",
            "    Previous write at attribute 'x' of Box object at 0x* by goroutine 2:",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_racy_in_the_package _*",
            "E   *DataRaceError: 1 data race(s) reported during this test (--goroutines-race)",
            "    ==================",
            "    WARNING: DATA RACE",
            "    Write at attribute 'n' of Counter object at 0x* by goroutine 3:",
            "      Counter.bump()",
            "          */mypkg.py:6",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_asserts_are_still_rewritten _*",
            "E       assert 1 == 2",
            "E        +  where 1 = <test_it.Box object at 0x*>.x",
            "Found 2 data race(s)",
            "*= short test summary info =*",
            "FAILED test_it.py::test_racy_here - *DataRaceError: 1 data race(s) reported*",
            "FAILED test_it.py::test_racy_in_the_package - *DataRaceError: 1 data race(s)*",
            "FAILED test_it.py::test_asserts_are_still_rewritten - assert 1 == 2",
        ]
    )
    assert result.stdout.str().count("WARNING: DATA RACE") == 2
    assert "Found 2 data race(s)" not in result.stderr.str()  # the nested run stays quiet


def test_without_the_option_nothing_is_instrumented(pytester: pytest.Pytester) -> None:
    result = runpytest(pytester)
    # Only run(race=True) detects: test_racy_here's race is not seen, the
    # package's is (imported before the run, it is instrumented when it starts).
    result.assert_outcomes(failed=2, passed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_racy_in_the_package _*",
            "E       AssertionError: assert 1 == 2",
            "E        +  where 1 = <function races at 0x*>()",
            "*- Captured stderr call -*",
            "==================",
            "WARNING: DATA RACE",
            "Write at attribute 'n' of Counter object at 0x* by goroutine 3:",
            "  Counter.bump()",
            "      */mypkg.py:6",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "FAILED test_it.py::test_racy_in_the_package - *assert 1 == 2",
            "FAILED test_it.py::test_asserts_are_still_rewritten - assert 1 == 2",
        ]
    )
    result.stdout.no_fnmatch_line("*DataRaceError*")
    assert result.stdout.str().count("WARNING: DATA RACE") == 1


def test_the_option_is_in_the_help(pytester: pytest.Pytester) -> None:
    result = runpytest(pytester, "--help")
    result.stdout.fnmatch_lines(
        ["goroutines:", "  --goroutines-race*run the goroutines race detector*"]
    )
