"""The facts of the machine a run was measured on, printed with the numbers."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "python-telegram-bot",
    "argon2-cffi",
    "SQLAlchemy",
    "aiosqlite",
    "asyncpg",
    "rapidfuzz",
    "email-validator",
    "uvicorn",
    "httpx",
)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _cpu_model() -> str | None:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or None


def _cpu_quota() -> float | None:
    # cgroup v2: "max 100000" (no limit) or "<quota> <period>" (a container held to quota/period).
    text = _read("/sys/fs/cgroup/cpu.max")
    if not text:
        return None
    quota, _, period = text.strip().partition(" ")
    return None if quota == "max" else int(quota) / int(period)


def _memory_total_mib() -> float | None:
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    return None


def facts() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_quota": _cpu_quota(),
        "memory_total_mib": _memory_total_mib(),
        "packages": versions,
    }


def steal_seconds() -> float:
    """CPU time the hypervisor gave to others while this machine's vCPUs wanted to run, all
    vCPUs (the eighth value of /proc/stat's cpu line; 0 where there is none). A vCPU stolen
    while it runs the event loop is a stall that no code of the bot's can cause or prevent."""
    try:
        fields = Path("/proc/stat").read_text().split(maxsplit=9)
        return int(fields[8]) / os.sysconf("SC_CLK_TCK") if fields[0] == "cpu" else 0.0
    except (OSError, IndexError, ValueError):
        return 0.0
