"""The goroutines pytest plugin: a test that leaves goroutines behind fails.

Registered under the ``pytest11`` entry point ``goroutines``, so it is on
once goroutines is installed; ``-p no:goroutines`` turns it off.

After each test, once its fixtures are torn down (so that a fixture may stop
what it started), the plugin runs ``goroutines.testing.verify_none()``: a
goroutine left alive (running, blocked, or abandoned by a ``run`` that
returned), a pending background timer, a registered fd or a busy
``blocking`` helper makes the test's teardown raise ``LeakError`` with the
goroutine dump, in that test's own report. The check is skipped, and what is
left forgotten (``ignore_current``), when the test is marked
``@pytest.mark.allow_goroutine_leaks`` or did not pass: a failing test stops
half-way and leaves things behind, and one report per test is enough. Either
way the next test starts clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from . import testing

if TYPE_CHECKING:
    from collections.abc import Generator

_MARKER = "allow_goroutine_leaks"
_passed = pytest.StashKey[bool]()
_HINT = (
    "(the goroutines pytest plugin: clean up after the test, or mark it "
    f"@pytest.mark.{_MARKER} if it leaks on purpose)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}: the test leaves goroutines alive on purpose; the goroutines plugin "
        "forgets them after the test instead of failing it",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_passed] = report.passed
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    __tracebackhide__ = True
    try:
        yield  # the fixtures' finalizers run here
    except BaseException:
        testing.ignore_current()
        raise
    if item.get_closest_marker(_MARKER) is not None or not item.stash.get(_passed, False):
        testing.ignore_current()
        return
    try:
        testing.verify_none()
    except testing.LeakError as exc:
        raise testing.LeakError(f"{exc}\n\n{_HINT}") from None
