"""The goroutines pytest plugin: a test that leaves goroutines behind fails.

Registered under the ``pytest11`` entry point ``goroutines``, so it is on
once goroutines is installed; ``-p no:goroutines`` turns it off.

After each test, once its fixtures are torn down (so that a fixture may stop
what it started), the plugin runs ``goroutines.testing.verify_none()``: a
goroutine left alive (running, blocked, or abandoned by a ``run`` that
returned), a pending background timer, a registered fd or a busy
``blocking`` helper makes the test itself fail, as Go's goleak does. Its call
report becomes a failure whose text is the ``LeakError`` with the goroutine
dump, so pytest counts it as failed (not as an error at teardown), junitxml
writes a ``<failure>``, ``-x`` stops after it and ``--lf`` reruns it. The
check is skipped, and what is left forgotten (``ignore_current``), when the
test is marked ``@pytest.mark.allow_goroutine_leaks``, did not pass, or is
marked ``xfail``: a failing test stops half-way and leaves things behind, and
one report per test is enough. Either way the next test starts clean.

How the failure reaches the call report
---------------------------------------

pytest logs each phase's report (``pytest_runtest_logreport``) as soon as the
phase ends, so by the time teardown has run the test's "passed" has already
been counted, written to junitxml and sent to xdist's controller. Raising in
teardown instead gives ``1 passed, 1 error``. So the plugin runs the test
protocol itself (``pytest_runtest_protocol``, as pytest-rerunfailures does):

1. run setup, call and teardown with their reports held back
   (``runtestprotocol(log=False)``);
2. at the end of teardown, after every fixture finalizer and inside the
   teardown's capture and timing, run the check and keep what it found;
3. if it found a leak, turn the held call report into a failure;
4. log the reports in their usual order.

Only the logging waits: a hook that looks at reports as they are made
(``pytest_runtest_makereport``) still sees the call pass, and ``--pdb`` does
not stop at a leak.

If another plugin runs the protocol instead (its ``pytest_runtest_protocol``
answered first), the reports are not held and the check falls back to raising
``LeakError`` from teardown: an error at teardown, still in that test's report.

``--goroutines-race``
---------------------

With the option, the race detector is on for the whole pytest run
(``_pytest_race``: from ``pytest_load_initial_conftests``, before conftests and
test modules are imported, to ``pytest_unconfigure``). A test during which a
race was reported (from the start of its setup to the end of its teardown,
by any goroutine or thread) fails the same way as a leaking one: its call
report becomes a failure whose text is the detector's report
(``DataRaceError``). If the call failed anyway, or there is none (the setup
failed), the report is added to it as a section instead; likewise a leak
found in a test already failed for a race. Races reported between tests
(while modules are collected, by a goroutine still running after its test)
are shown in the terminal summary, with ``Found K data race(s)``. As Go's
detector does, each pair of code locations is reported once per session,
so a second test that races at the same two places passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.runner import runtestprotocol  # the default protocol; pytest does not export it

from . import testing

if TYPE_CHECKING:
    from collections.abc import Generator

    from ._pytest_race import DataRaceError

_MARKER = "allow_goroutine_leaks"
_HINT = (
    "(the goroutines pytest plugin: clean up after the test, or mark it "
    f"@pytest.mark.{_MARKER} if it leaks on purpose)"
)


@dataclass
class _Run:
    """What the plugin knows about one run of a test (kept in its stash)."""

    holding: bool = False  # this plugin runs the protocol and holds the reports back
    passed: bool = False  # the call phase passed, and the test is not an xfail
    leak: pytest.ExceptionInfo[testing.LeakError] | None = None  # what the check found
    races: pytest.ExceptionInfo[DataRaceError] | None = None  # --goroutines-race


_run = pytest.StashKey[_Run]()
_racing = pytest.StashKey[bool]()  # set while this plugin's race session is open


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("goroutines").addoption(
        "--goroutines-race",
        action="store_true",
        default=False,
        help="run the goroutines race detector over the whole session: test modules, "
        "conftest.py files and the package under test are instrumented as they are "
        "imported, and a test during which a data race is reported fails with the report",
    )


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """The earliest the option is known, before any conftest is imported."""
    if getattr(early_config.known_args_namespace, "goroutines_race", False):
        _start_race(early_config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}: the test leaves goroutines alive on purpose; the goroutines plugin "
        "forgets them after the test instead of failing it",
    )
    if config.getoption("goroutines_race"):  # the plugin was registered late (-p, a conftest)
        _start_race(config)


def _start_race(config: pytest.Config) -> None:
    if not config.stash.get(_racing, False):
        from . import _pytest_race  # imported only with the option: it loads the detector

        _pytest_race.begin(config)
        config.stash[_racing] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_racing, False):
        config.stash[_racing] = False
        from . import _pytest_race

        _pytest_race.end()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.stash.get(_racing, False):
        return
    from . import _pytest_race

    outside = _pytest_race.log.take_outside()
    if outside:
        terminalreporter.section("data races reported outside any test")
        terminalreporter.write(outside)
    if _pytest_race.count():
        terminalreporter.write_line(f"Found {_pytest_race.count()} data race(s)", red=True)


def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    """pytest's default protocol, with the reports held back until the leak
    check at the end of teardown has had its say (see the module docstring)."""
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    run = item.stash[_run] = _Run(holding=True)
    try:
        reports = runtestprotocol(item, log=False, nextitem=nextitem)
    finally:
        del item.stash[_run]  # a rerun of the item starts afresh
    for failure in (run.races, run.leak):
        if failure is not None:
            _fail_call(reports, failure)
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        run = item.stash.setdefault(_run, _Run())
        run.passed = report.passed and not hasattr(report, "wasxfail")
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    if item.config.stash.get(_racing, False):
        from . import _pytest_race

        _pytest_race.log.watch()  # before the first fixture
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    __tracebackhide__ = True
    run = item.stash.setdefault(_run, _Run())
    passed, run.passed = run.passed, False
    try:
        yield  # the fixtures' finalizers run here
    except BaseException:
        testing.ignore_current()
        raise
    finally:
        if item.config.stash.get(_racing, False):
            from . import _pytest_race

            run.races = _pytest_race.races_seen()
    if run.races is not None and not run.holding:  # another plugin's protocol
        raise run.races.value
    if item.get_closest_marker(_MARKER) is not None or not passed:
        testing.ignore_current()
        return
    try:
        testing.verify_none()
    except testing.LeakError as exc:
        if not run.holding:  # another plugin's protocol: the call is already logged
            raise testing.LeakError(f"{exc}\n\n{_HINT}") from None
        run.leak = _with_hint(exc)


def _with_hint(exc: testing.LeakError) -> pytest.ExceptionInfo[testing.LeakError]:
    """The check's ``LeakError`` with the plugin's hint added, as raised."""
    try:
        raise testing.LeakError(f"{exc}\n\n{_HINT}") from None
    except testing.LeakError as leak:
        return pytest.ExceptionInfo.from_exception(leak)


def _fail_call(reports: list[pytest.TestReport], failure: pytest.ExceptionInfo[Any]) -> None:
    """Turn the passed call report among ``reports`` into a failure showing
    ``failure`` (a leak's message and dump, or the race reports), without the
    plugin's own traceback; if the call did not pass, or there is no call
    report (the setup failed), add ``failure`` to the last report as a
    section instead: the test has already failed, or not run."""
    call = next((report for report in reports if report.when == "call"), None)
    if call is not None and call.passed:
        call.outcome = "failed"
        call.longrepr = failure.getrepr(style="no")
        return
    target = call if call is not None else reports[-1]
    target.sections.append((f"goroutines: {failure.typename}", str(failure.value)))
