"""Fault injection for the twins: a test tells a twin to fail, be slow, time out or answer garbage."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

MODES = {"fail", "slow", "timeout", "garbage"}


@dataclass
class Fault:
    mode: str
    times: int | None = None  # how many requests it affects; None = until cleared
    status: int = 503  # for "fail"
    delay_ms: int = 0  # for "slow" (then answers normally) and "timeout" (then 504)
    served: int = 0  # requests it has affected so far


class FaultBoard:
    def __init__(self):
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def set(self, twin: str, spec: dict) -> Fault:
        mode = spec.get("mode")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}")
        default_delay = 30000 if mode == "timeout" else 1000 if mode == "slow" else 0
        fault = Fault(
            mode=mode,
            times=spec.get("times"),
            status=int(spec.get("status", 503)),
            delay_ms=int(spec.get("delay_ms", default_delay)),
        )
        with self._lock:
            self._faults[twin] = fault
        return fault

    def clear(self, twin: str | None = None) -> None:
        with self._lock:
            if twin is None:
                self._faults.clear()
            else:
                self._faults.pop(twin, None)

    def take(self, twin: str) -> Fault | None:
        """The fault that applies to this request, counting it; None when the twin behaves."""
        with self._lock:
            fault = self._faults.get(twin)
            if fault is None or (fault.times is not None and fault.served >= fault.times):
                return None
            fault.served += 1
            return Fault(**asdict(fault))

    def describe(self) -> dict:
        with self._lock:
            return {twin: asdict(fault) for twin, fault in self._faults.items()}


def apply(fault: Fault):
    """Act out a fault. Returns a response tuple, or None to let the twin answer (after a delay)."""
    if fault.mode == "fail":
        return {"error": "injected failure", "mode": "fail"}, fault.status
    time.sleep(fault.delay_ms / 1000)
    if fault.mode == "timeout":
        return {"error": "injected timeout"}, 504
    if fault.mode == "garbage":
        return "<html>502 Bad Gateway</html>", 200, {"Content-Type": "text/html"}
    return None
