"""The race detector (``run(race=True)``, ``goroutines run --race``): it reports
conflicting accesses to shared Python state (attributes, module globals, items)
from goroutines that no happens-before edge orders, in Go's format. ``instrument``
rewrites user code so that every such access is reported to the detector first;
the detector keeps the vector clocks and the shadow memory. Nothing in
``goroutines._runtime`` imports this package: it observes through hooks.
"""
