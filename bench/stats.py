"""Small numeric helpers shared by the benchmarks: percentiles and the process's memory."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between the two nearest ranks; `sorted_values` must be sorted."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summary_ms(seconds: list[float]) -> dict[str, float | int]:
    """count, mean, p50, p95, p99 and max of durations given in seconds, in milliseconds."""
    values = sorted(s * 1000 for s in seconds)
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": values[-1],
    }


def _status_kib(field: str) -> int | None:
    # Linux only; elsewhere the numbers read from /proc are simply absent from the report.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def vm_rss_mib() -> float | None:
    """Resident memory now (VmRSS)."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024


def vm_hwm_mib() -> float | None:
    """Highest resident memory so far (VmHWM)."""
    kib = _status_kib("VmHWM")
    return None if kib is None else kib / 1024


def max_rss_mib() -> float:
    """getrusage's ru_maxrss: the process's peak resident memory (KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def reset_peak_rss() -> bool:
    """Restarts VmHWM from the current RSS (Linux >= 4.0), so that a later VmHWM is the peak of
    what ran in between; False where that is not possible (then VmHWM is the process's peak)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True
