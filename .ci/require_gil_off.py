"""A pytest plugin for CI on a free-threaded CPython: the tests must really run
without the GIL.

A free-threaded 3.13 turns the GIL back on, with nothing but a RuntimeWarning,
when it imports an extension module that does not declare that it supports
running without it (greenlet releases after 3.5.3 do that on 3.13t). The suite
would then pass while testing a build with a GIL. Loaded with
``-p require_gil_off`` (``.ci/`` on ``PYTHONPATH``), this plugin fails the run
if the GIL is on once greenlet and goroutines are imported, and again if it is
on when the session ends, after every test's imports: nothing turns the GIL
off again once it is on, so a GIL that is off at the end was off throughout.
"""

from __future__ import annotations

import sys

import pytest


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def pytest_configure(config: pytest.Config) -> None:
    import greenlet

    import goroutines

    if _gil_enabled():
        raise pytest.UsageError(
            f"require_gil_off: the GIL is on in {sys.executable} (Python {sys.version}) after "
            f"importing greenlet {greenlet.__version__} and goroutines from {goroutines.__file__}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    return f"GIL enabled: {_gil_enabled()} (require_gil_off checks it again at the end)"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _gil_enabled():
        sys.stderr.write(
            "\nrequire_gil_off: the GIL was turned on during the tests "
            "(an extension module imported without free-threading support?)\n"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
