"""16 cores and 3 machines, from what this 2-core machine measured (bench/scale.py).

No larger machine is available, so the larger figures are arithmetic on measured CPU
cost: every process of the server side (gateway workers, PostgreSQL, Redis) was
metered during the measured window and until the after-ack backlog was applied, so
each webhook, send or bot reply has a cost in CPU microseconds per process kind.
A machine with C cores then does at most C x 1,000,000 / (sum of the costs) per
second, if the processes keep their per-request cost as they multiply (the
coordination row measures what a second replica costs). Anything one process does
alone for everyone is a ceiling no number of cores lifts: one Redis server is one
core, and if one process applies the inbox at a time, its apply cost caps stored
webhooks per second. The load generators and the fake provider are left out: in
production they are the providers, on other machines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.meter import Window
from bench.report import num

if TYPE_CHECKING:
    from bench.scale import Scale

CORES = 16
MACHINES = 3


@dataclass
class Cost:
    """CPU microseconds per unit of work, by process kind."""

    gateway: float
    postgres: float
    redis: float

    @property
    def total(self) -> float:
        return self.gateway + self.postgres + self.redis


def _per(cpu_s: float, count: int) -> float:
    return 1e6 * cpu_s / count if count else 0.0


def _cap(cores: int, micros: float) -> float:
    return cores * 1e6 / micros if micros else 0.0


def _line(label: str, cores: int, micros: float, terms: str) -> tuple[str, float]:
    value = _cap(cores, micros)
    return f"{label}: {cores} x 1,000,000 / ({terms}) µs = **{num(value)}/s**", value


def _per_unit(title: str, count: int, w: Window) -> tuple[list[str], float]:
    """The lines for `count` units of work whose CPU was metered over `w`; and what the
    gateway tier of the machines alone would do."""
    c = Cost(_per(w.gateway, count), _per(w.postgres, count), _per(w.redis, count))
    terms = f"{num(c.gateway)} gateway + {num(c.postgres)} PostgreSQL + {num(c.redis)} Redis"
    one, _ = _line(f"- one machine, {CORES} cores, all on it", CORES, c.total, terms)
    machines = f"- {MACHINES} gateway machines of {CORES} cores"
    tier, tier_value = _line(machines, MACHINES * CORES, c.gateway, f"{num(c.gateway)} gateway")
    pg, _ = _line(f"- PostgreSQL on {CORES} cores", CORES, c.postgres, num(c.postgres))
    redis, _ = _line("- Redis (one thread)", 1, c.redis, num(c.redis))
    return ["", title, "", one, tier, pg, redis], tier_value


def extrapolation(scale: Scale) -> str:
    out: list[str] = ["## Extrapolation to 16 cores and 3 machines (arithmetic below)"]
    coordination = scale.details.get("coordination_ratio")
    run = scale.ingest.get(2)
    if run and run.wrk and run.wrk.ok:
        ok = run.wrk.ok
        cpu, drain = run.cpu, run.drain_cpu
        both = Window(
            gateway=cpu.gateway + drain.gateway,
            postgres=cpu.postgres + drain.postgres,
            redis=cpu.redis + drain.redis,
        )
        title = (
            f"**Webhooks stored end to end** (`--workers 2` run: {num(ok)} webhooks; CPU "
            "during the load and until the backlog was applied):"
        )
        lines, tier = _per_unit(title, ok, both)
        out += lines
        if run.apply_us:
            out.append(
                f"- if one process applies the inbox at a time: 1 x 1,000,000 / "
                f"{num(run.apply_us)} µs of gateway CPU per applied webhook (measured while "
                f"the backlog of {num(run.backlog)} was applied, acks over) = "
                f"**{num(_cap(1, run.apply_us))}/s**"
            )
        if isinstance(coordination, float) and coordination < 1 and tier:
            out.append(
                f"- with the coordination factor measured for 2 replicas on one core "
                f"({coordination:.2f}) applied to the gateway tier: "
                f"{num(tier)} x {coordination:.2f} = {num(tier * coordination)}/s"
            )
    sent = scale.send.get(2)
    if sent:
        result, window = sent
        title = f"**`SendMessage`** (`--workers 2` run, {num(result.calls)} sends):"
        out += _per_unit(title, result.calls, window)[0]
    bots = scale.bots.get(("closed", 2))
    if bots:
        replies, window = bots[0].replies, bots[1]
        title = (
            f"**Bot replies** (closed loop, `--workers 2`, {num(replies)} replies; each one "
            "is a webhook, a flow step and a send):"
        )
        out += _per_unit(title, replies, window)[0]
    if len(out) == 1:
        return ""
    return "\n".join(out)
