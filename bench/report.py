"""Formatting: Markdown tables, numbers, machine facts, gateway log checks."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown pipe table, columns padded so it also reads well in a terminal."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def wrk_version(wrk: str | None) -> str:
    if not wrk:
        return "not installed"
    try:
        proc = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = (proc.stdout or proc.stderr).strip().splitlines()
    return first[0].split(" [")[0].removeprefix("wrk ") if first else "unknown"


def machine_facts(wrk: str | None) -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": str(usable),
        "cpu": _cpu_model(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sanic": _version("sanic"),
        "grpcio": _version("grpcio"),
        "uvloop": _version("uvloop"),
        "wrk": wrk_version(wrk),
    }


def log_problems(text: str, limit: int = 8) -> tuple[Counter[str], list[str]]:
    """Counts of warning/error/critical lines (JSON logs or not) and a few distinct samples."""
    levels: Counter[str] = Counter()
    samples: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        level = ""
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            level = str(obj.get("level") or obj.get("levelname") or obj.get("severity") or "")
        else:
            upper = line.upper()
            for name in ("CRITICAL", "ERROR", "WARNING", "TRACEBACK", "EXCEPTION"):
                if name in upper:
                    level = name
                    break
            else:
                level = "non-json"
        level = level.lower()
        if level in ("warning", "warn", "error", "critical", "traceback", "exception", "non-json"):
            levels[level] += 1
            short = line[:300]
            if short not in samples and len(samples) < limit:
                samples.append(short)
    return levels, samples


def save_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
