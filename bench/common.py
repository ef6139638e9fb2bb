"""Shared benchmark helpers: the machine description and latency percentiles."""

from __future__ import annotations

import os
import platform
import statistics
import time


def cpu_reference_ms() -> float:
    """How fast this machine runs plain Python right now: the best of three timings of a fixed
    2-million-step loop. Machines of one kind differ (and a shared host varies over the day) by two
    or three times, so figures compare only between runs with similar values."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "cpu_reference_ms": cpu_reference_ms(),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=1000, method="inclusive")[max(0, min(998, round(q * 1000) - 1))]


def percentiles(name: str, values: list[float], *, unit: str = "ms", digits: int = 2, points: tuple[float, ...] = (0.50, 0.99)) -> dict[str, float]:
    """`{name}_p50_{unit}`, `{name}_p99_{unit}` (or the given points): the percentiles of `values`, rounded."""
    return {f"{name}_p{round(q * 100)}_{unit}": round(percentile(values, q), digits) for q in points}


# ---------------------------------------------------------------------------------------------------
# Processes on this machine, read from /proc (Linux): for memory and CPU figures of a server under test.

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields after "pid (comm) ", starting with state


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def process_tree(root: int) -> list[int]:
    """`root` and every live descendant of it."""
    parents: dict[int, list[int]] = {}
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, ()))
    return tree


def child_matching(text: str, parent: int | None = None) -> int | None:
    """The first child process of `parent` (default: this process) whose command line contains `text`."""
    parent = os.getpid() if parent is None else parent
    for pid in process_tree(parent)[1:]:
        if text in cmdline(pid):
            return pid
    return None


def pids_named(name: str) -> list[int]:
    """Processes whose comm (executable name) is `name`, e.g. "postgres" or "redis-server"."""
    found = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == name:
                    found.append(pid)
        except OSError:
            pass
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pids: list[int]) -> int:
    """Sum of VmRSS over `pids` (shared pages counted once per process)."""
    return sum(_status_kb(pid, "VmRSS") for pid in pids)


def pss_kb(pids: list[int]) -> int:
    """Sum of the proportional set size over `pids` (shared pages split between their users)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time used so far by `pids` (each process's own, not its children's)."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / _TICKS


def machine_busy_seconds() -> float:
    """CPU time spent by the whole machine (all cores) outside idle and iowait so far."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICKS


def set_listener_nodelay(port: int, host: str = "127.0.0.1") -> bool:
    """Turn on TCP_NODELAY on this process's listening socket bound to (host, port); connections it
    accepts from then on inherit it (Linux). An asyncio server on a socket made with proto 0 never
    gets it, and then a streamed reply waits for the client's delayed ACK (about 40 ms) between writes."""
    import socket

    for name in os.listdir("/proc/self/fd"):
        try:
            dup = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        try:
            if dup.type == socket.SOCK_STREAM and dup.getsockname() == (host, port):
                dup.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return True
        except OSError:
            pass
        finally:
            dup.close()
    return False
