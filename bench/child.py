"""Runs one workload of one implementation in this fresh process and prints the outcome.

Usage: ``child.py IMPLEMENTATION WORKLOAD PARAMS_JSON``; run.py starts it, people need not.

Prints one JSON object on the last line of stdout: ``{"figure": ..., "raw": ...}`` when the
workload ran, ``{"unavailable": reason}`` when the implementation cannot be imported here. A
workload that fails exits with status 1 and its traceback on stderr.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import sys
from typing import Any

from harness import WORKLOADS_BY_NAME, Unavailable


def main(argv: list[str]) -> int:
    impl, workload_name, params_json = argv[1:]
    workload = WORKLOADS_BY_NAME[workload_name]
    params: dict[str, int] = json.loads(params_json)
    try:
        module = importlib.import_module(f"impl_{impl}")
    except Unavailable as exc:
        return report({"unavailable": str(exc)})
    except ImportError as exc:
        return report({"unavailable": f"not installed ({exc})"})
    raw = run_workload(module, workload.function, params)
    return report({"figure": workload.figure(raw, params), "raw": raw})


def run_workload(module: Any, function_name: str, params: dict[str, int]) -> float:
    """Calls the workload; a coroutine function runs on the module's own ``run_async``."""
    function = getattr(module, function_name)
    if inspect.iscoroutinefunction(function):
        return float(module.run_async(functools.partial(function, **params)))
    return float(function(**params))


def report(outcome: dict[str, object]) -> int:
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
