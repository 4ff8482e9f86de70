"""Cooperative ``time.sleep``: in a goroutine it parks only that goroutine
(``goroutines.time.sleep``); on a plain thread it sleeps the thread, as before.

``PATCHES`` lists what ``goroutines.patch()`` replaces in the ``time`` module.
"""

from __future__ import annotations

import time as _stdlib

from .. import time as _gotime
from .._runtime import running_goroutine

__all__ = ["PATCHES", "sleep"]

_sleep = _stdlib.sleep


def sleep(secs: float) -> None:
    if running_goroutine() is None:
        _sleep(secs)
        return
    if not isinstance(secs, (int, float)):
        raise TypeError(f"'{type(secs).__name__}' object cannot be interpreted as an integer")
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    _gotime.sleep(secs)


sleep.__doc__ = _sleep.__doc__

PATCHES: list[tuple[object, str, object]] = [(_stdlib, "sleep", sleep)]
