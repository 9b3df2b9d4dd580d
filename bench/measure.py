"""Numbers: percentiles, peak memory of a process, and what machine this is."""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        ordered = sorted(values)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            len(ordered),
            percentile(ordered, 50),
            percentile(ordered, 95),
            percentile(ordered, 99),
            ordered[-1],
        )


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(resident now, peak resident) of the process in MiB (VmRSS, VmHWM); None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", math.nan), values.get("VmHWM", math.nan)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process used so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_named(command: str) -> list[int]:
    """Processes of this machine whose command name (/proc/PID/comm) is `command`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _read(str(entry / "comm")).strip() == command:
            found.append(int(entry.name))
    return sorted(found)


CpuReading = dict[str, dict[int, float]]
"""CPU seconds so far of each process of each named group."""


def cpu_of(pids: dict[str, list[int]]) -> CpuReading:
    reading: CpuReading = {}
    for name, group in pids.items():
        seconds = {pid: cpu_seconds(pid) for pid in group}
        reading[name] = {pid: value for pid, value in seconds.items() if value is not None}
    return reading


def cpu_between(before: CpuReading, after: CpuReading) -> dict[str, float]:
    """CPU seconds each group spent between two readings (processes present at both)."""
    return {
        name: sum(value - before.get(name, {}).get(pid, value) for pid, value in group.items())
        for name, group in after.items()
    }


def machine() -> dict[str, str]:
    cpu_model = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
         if line.startswith("MemTotal:")),
        0,
    )  # fmt: skip
    debian = _read("/etc/debian_version").strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPU": cpu_model,
        "cores": str(os.cpu_count()),
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}"
        + (f", Debian {debian}" if debian else ""),
        "Python": sys.version.split()[0],
        "load average at start (1, 5, 15 min)": load,
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
