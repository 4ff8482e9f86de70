"""``goroutines.testing``: helpers for testing concurrent code.

- Leak checks (Go's ``goleak``): ``verify_none``, ``LeakError``,
  ``ignore_current``; the pytest plugin runs them after every test.
- ``wait_blocked(op)``: wait until a goroutine is parked in a given channel
  operation or lock, instead of sleeping and hoping it got there.
- ``synctest``: runs with a fake clock that moves when every goroutine is
  blocked (Go's ``testing/synctest``), so tests of timeouts run instantly.
"""

from __future__ import annotations

from . import synctest as synctest
from ._leakcheck import LeakError as LeakError
from ._leakcheck import ignore_current as ignore_current
from ._leakcheck import verify_none as verify_none
from ._waiting import wait_blocked as wait_blocked

__all__ = ["LeakError", "ignore_current", "synctest", "verify_none", "wait_blocked"]
