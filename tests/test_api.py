"""The public surface: every name API.md promises is exported, once, from its public path."""

from __future__ import annotations

import importlib
import inspect

import pytest

import goroutines

TOP_LEVEL = {
    "run",
    "go",
    "Chan",
    "SendChan",
    "RecvChan",
    "nilchan",
    "ClosedChannelError",
    "DeadlockError",
    "select",
    "default",
    "blocking",
}
MODULES = {
    "goroutines.time": {
        "sleep",
        "after",
        "tick",
        "Timer",
        "Ticker",
        "after_func",
        "now",
        "since",
        "Nanosecond",
        "Microsecond",
        "Millisecond",
        "Second",
        "Minute",
        "Hour",
    },
    "goroutines.runtime": {
        "compiled",
        "gomaxprocs",
        "num_cpu",
        "num_goroutine",
        "races",
        "gosched",
        "stack",
        "leaks",
        "set_blocking_threads",
    },
    "goroutines.testing": {
        "verify_none",
        "LeakError",
        "ignore_current",
        "wait_blocked",
        "synctest",
    },
    "goroutines.testing.synctest": {"run", "wait"},
}


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_level_name_is_exported(name: str) -> None:
    assert name in goroutines.__all__
    assert hasattr(goroutines, name)


def test_all_lists_each_name_once_and_only_real_attributes() -> None:
    assert len(goroutines.__all__) == len(set(goroutines.__all__))
    for name in goroutines.__all__:
        assert hasattr(goroutines, name), name


def test_no_private_name_leaks_into_all() -> None:
    assert not [name for name in goroutines.__all__ if name.startswith("_")]


@pytest.mark.parametrize(
    "name", ["Chan", "SendChan", "RecvChan", "ClosedChannelError", "run", "blocking"]
)
def test_public_objects_show_the_public_module_in_tracebacks(name: str) -> None:
    assert getattr(goroutines, name).__module__ == "goroutines"


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_submodule_exports_its_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == MODULES[module_name]
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_errors_are_runtime_errors_as_api_md_says() -> None:
    assert issubclass(goroutines.ClosedChannelError, RuntimeError)
    assert issubclass(goroutines.DeadlockError, RuntimeError)


def test_run_and_go_take_the_function_positionally_only() -> None:
    for fn in (goroutines.run, goroutines.go):
        first = next(iter(inspect.signature(fn).parameters.values()))
        assert first.kind is inspect.Parameter.POSITIONAL_ONLY


def test_run_options_are_keyword_only() -> None:
    parameters = inspect.signature(goroutines.run).parameters
    for option in ("gomaxprocs", "race", "trace"):
        assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files("goroutines").joinpath("py.typed").is_file()
