"""Webhook ingest load with wrk: signed ~1 KB text notifications of one provider kind
(Meta, Kapso or a QR-session engine; see `KINDS`).

wrk's Lua has no HMAC, so the bodies are generated and signed here, written one per
line (`<hex signature>\\t<json>`) to a data file, and a Lua script loads them: each wrk
thread takes every n-th line (so threads never send the same body) and cycles through
its share. The script's `done()` prints one `BENCH_RESULT {json}` line with exact
percentiles, the per-status count of non-2xx answers and how often bodies were reused.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from bench.servers import (
    APP_SECRET,
    HOST,
    KAPSO_CHANNEL_ID,
    KAPSO_SECRET,
    PHONE_NUMBER_ID,
    QR_SECRET,
    QR_SESSION_ID,
    BenchError,
    ensure_tool,
    taskset,
)
from gateway import demo

BODY_SIZE = 1024
CONNECTIONS = 32
THREADS = 2

# The demo's Meta text webhook (shaped like tests/fixtures/meta/text.json),
# addressed to the bench channel.
_SAMPLE: dict[str, Any] = copy.deepcopy(demo.SAMPLE)
_SAMPLE["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = PHONE_NUMBER_ID
_FILLER = "Hi, is my order on its way? I ordered it last week and the tracking page says nothing. "


def wamid(run_id: str, n: int) -> str:
    raw = f"15551234567:{run_id}:{n:09d}".encode()
    return "wamid." + base64.b64encode(raw).decode()


# Shaped like tests/fixtures/kapso/message_received_text.json (payload v2).
_KAPSO_SAMPLE: dict[str, Any] = {
    "message": {
        "from": "15551234567",
        "id": "",
        "timestamp": "1767225660",
        "type": "text",
        "text": {"body": ""},
        "kapso": {"direction": "inbound", "status": "received", "origin": "cloud_api"},
    },
    "conversation": {"id": "0b6f3a52-7c1d-4e8a-9f20-3d5b6c7e8f90", "phone_number": "+15551234567"},
    "is_new_conversation": False,
    "phone_number_id": PHONE_NUMBER_ID,
}
# Shaped like tests/fixtures/waha/message_text.json (WAHA envelope).
_WAHA_SAMPLE: dict[str, Any] = {
    "id": "evt_01jgxq7m3k8v2w4n6p9r0s1010",
    "timestamp": 1767225661000,
    "event": "message",
    "session": "default",
    "payload": {
        "id": "",
        "timestamp": 1767225660,
        "from": "15551234567@c.us",
        "fromMe": False,
        "source": "app",
        "to": "15557654321@c.us",
        "body": "",
        "hasMedia": False,
        "ack": 1,
        "_data": {"type": "chat", "notifyName": "Alex Rivera"},
    },
    "engine": "WEBJS",
}


@dataclass(frozen=True)
class Kind:
    """How one provider kind's webhooks look: where they go and how they are signed."""

    name: str
    url_path: str
    sample: dict[str, Any]
    message: tuple[str | int, ...]  # path to the message object in `sample`
    text_key: tuple[str, ...]  # path to the text inside the message
    secret: str
    algorithm: str
    sig_header: str
    sig_prefix: str = ""
    headers: tuple[tuple[str, str], ...] = ()


KINDS = {
    "meta": Kind(
        "meta",
        "/webhooks/meta",
        _SAMPLE,
        ("entry", 0, "changes", 0, "value", "messages", 0),
        ("text", "body"),
        APP_SECRET,
        "sha256",
        "X-Hub-Signature-256",
        "sha256=",
    ),
    "kapso": Kind(
        "kapso",
        f"/webhooks/kapso/{KAPSO_CHANNEL_ID}",
        _KAPSO_SAMPLE,
        ("message",),
        ("text", "body"),
        KAPSO_SECRET,
        "sha256",
        "X-Webhook-Signature",
        headers=(("X-Webhook-Event", "whatsapp.message.received"),),
    ),
    "qr": Kind(
        "qr",
        f"/webhooks/qr/{QR_SESSION_ID}",
        _WAHA_SAMPLE,
        ("payload",),
        ("body",),
        QR_SECRET,
        "sha512",
        "X-Webhook-Hmac",
    ),
}


def webhook_body(message_id: str, size: int = BODY_SIZE, kind: str = "meta") -> bytes:
    """Compact JSON of a text notification, its text padded so the body is `size` bytes."""
    spec = KINDS[kind]
    doc = json.loads(json.dumps(spec.sample))
    message = doc
    for key in spec.message:
        message = message[key]
    message["id"] = message_id
    *parents, last = spec.text_key
    holder = message
    for key in parents:
        holder = holder[key]
    holder[last] = ""
    base = len(orjson.dumps(doc))
    pad = max(size - base, 1)
    holder[last] = (_FILLER * (pad // len(_FILLER) + 1))[:pad]
    return orjson.dumps(doc)


def sign(body: bytes, secret: str = APP_SECRET, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def write_bodies(path: Path, run_id: str, count: int, kind: str = "meta") -> int:
    """Write `count` distinct signed bodies (one per line); returns the body size."""
    spec = KINDS[kind]
    size = 0
    with open(path, "wb") as f:
        for n in range(count):
            body = webhook_body(wamid(run_id, n), kind=kind)
            size = len(body)
            f.write(sign(body, spec.secret, spec.algorithm).encode() + b"\t" + body + b"\n")
    return size


_LUA = r"""
-- Generated by bench/ingest.py.
local data_path = "%(data_path)s"
local nthreads = %(threads)d
local url_path = "%(url_path)s"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function load(all)
  local s, b = {}, {}
  local i = 0
  for line in io.lines(data_path) do
    if all or i %% nthreads == tid then
      local tab = line:find("\t", 1, true)
      s[#s + 1] = "%(sig_prefix)s" .. line:sub(1, tab - 1)
      b[#b + 1] = line:sub(tab + 1)
    end
    i = i + 1
  end
  return s, b
end

function init(args)
  sigs, bodies = load(false)
  if #bodies == 0 then sigs, bodies = load(true) end
  idx, wraps, non2xx, first_bad = 0, 0, 0, ""
  codes = {}
end

function request()
  idx = idx + 1
  if idx > #bodies then idx = 1; wraps = wraps + 1 end
  return wrk.format("POST", url_path, {
    ["Content-Type"] = "application/json",
    ["%(sig_header)s"] = sigs[idx],%(extra_headers)s
  }, bodies[idx])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    codes[status] = (codes[status] or 0) + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

local function q(s)
  return '"' .. string.gsub(s, '[%%c"\\]', function(c)
    return string.format("\\u%%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local sent, reused, bad, first = 0, 0, 0, ""
  local all_codes = {}
  for _, t in ipairs(threads) do
    local n = #(t:get("bodies") or {})
    sent = sent + n
    reused = reused + (t:get("wraps") or 0)
    bad = bad + (t:get("non2xx") or 0)
    local fb = t:get("first_bad") or ""
    if first == "" then first = fb end
    for code, count in pairs(t:get("codes") or {}) do
      all_codes[code] = (all_codes[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(all_codes) do
    parts[#parts + 1] = string.format('"%%d": %%d', code, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f, ' ..
    '"connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, ' ..
    '"status_errors": %%d, "timeouts": %%d, "non2xx": %%d, "codes": {%%s}, ' ..
    '"bodies": %%d, "wraps": %%d, "first_bad": %%s}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, bad, table.concat(parts, ", "),
    sent, reused, q(first)))
end
"""


@dataclass
class WrkResult:
    target: str
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non2xx: int
    codes: dict[str, int]
    socket_errors: dict[str, int]
    # Distinct bodies available, and how many times a wrk thread cycled through its share.
    bodies: int
    wraps: int
    first_bad: str = ""
    notes: list[str] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time wrk itself used (user + system)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def ok(self) -> int:
        return self.requests - self.non2xx


def ensure_wrk() -> str:
    """Path of wrk, installing the Debian package on demand; BenchError if impossible."""
    return ensure_tool("wrk", "wrk", "https://github.com/wg/wrk", "`brew install wrk` on macOS")


def write_script(path: Path, data_path: Path, url_path: str, kind: str = "meta") -> None:
    spec = KINDS[kind]
    extra = "".join(f'\n    ["{name}"] = "{value}",' for name, value in spec.headers)
    path.write_text(
        _LUA
        % {
            "data_path": str(data_path),
            "threads": THREADS,
            "url_path": url_path,
            "sig_header": spec.sig_header,
            "sig_prefix": spec.sig_prefix,
            "extra_headers": extra,
        }
    )


def start_wrk(
    wrk: str,
    port: int,
    script: Path,
    duration: float,
    url_path: str,
    *,
    connections: int = CONNECTIONS,
    cpus: str | None = None,
) -> RunningWrk:
    """Start wrk in the background (several can load several gateways at once)."""
    seconds = max(1, round(duration))
    argv = [
        *taskset(cpus),
        wrk,
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://{HOST}:{port}{url_path}",
    ]
    out = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
    return RunningWrk(proc, out, seconds)


@dataclass
class RunningWrk:
    proc: subprocess.Popen[str]
    out: IO[str]
    seconds: int

    def finish(self, target: str) -> WrkResult:
        """Wait for wrk to end; its result, with the CPU time wrk itself used."""
        deadline = time.monotonic() + self.seconds + 60
        while self.proc.returncode is None:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                cpu_s = usage.ru_utime + usage.ru_stime
            elif time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise BenchError(f"wrk against {target} did not end in time")
            else:
                time.sleep(0.05)
        self.out.seek(0)
        stdout = self.out.read()
        self.out.close()
        return parse_wrk(target, self.proc.returncode, stdout, cpu_s)


def parse_wrk(target: str, returncode: int, stdout: str, cpu_s: float) -> WrkResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if returncode != 0 or line is None:
        raise BenchError(f"wrk failed against {target} (exit {returncode}):\n{stdout[-3000:]}")
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    return WrkResult(
        target=target,
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
        non2xx=data["non2xx"],
        codes={str(k): int(v) for k, v in data["codes"].items()},
        socket_errors={
            k: data[k]
            for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
            if data[k]
        },
        bodies=data["bodies"],
        wraps=data["wraps"],
        first_bad=data["first_bad"],
        cpu_s=cpu_s,
    )


def run_wrk(
    wrk: str, target: str, port: int, script: Path, duration: float, url_path: str
) -> WrkResult:
    return start_wrk(wrk, port, script, duration, url_path).finish(target)


class IngestLoad:
    """Body files and scripts for one target, in `workdir`."""

    def __init__(self, wrk: str, workdir: Path, url_path: str, kind: str = "meta") -> None:
        self.wrk = wrk
        self.workdir = workdir
        self.url_path = url_path
        self.kind = kind
        self.body_size = 0
        self._files = 0
        self._distinct: dict[Path, int] = {}
        workdir.mkdir(parents=True, exist_ok=True)

    def prepare(self, run_id: str, count: int) -> Path:
        """Data file + script with `count` distinct bodies; returns the script path."""
        self._files += 1
        data = self.workdir / f"bodies-{self._files}.txt"
        script = self.workdir / f"load-{self._files}.lua"
        self.body_size = write_bodies(data, run_id, count, self.kind)
        write_script(script, data, self.url_path, self.kind)
        self._distinct[script] = count
        return script

    def run(self, target: str, port: int, script: Path, duration: float) -> WrkResult:
        return self.start(port, script, duration).finish(target)

    def start(
        self,
        port: int,
        script: Path,
        duration: float,
        *,
        connections: int = CONNECTIONS,
        cpus: str | None = None,
    ) -> LoadRun:
        """Start wrk with `script` against `port`; `.finish(target)` waits for it."""
        running = start_wrk(
            self.wrk, port, script, duration, self.url_path, connections=connections, cpus=cpus
        )
        return LoadRun(running, self._distinct.get(script))


@dataclass
class LoadRun:
    running: RunningWrk
    distinct: int | None

    def finish(self, target: str) -> WrkResult:
        result = self.running.finish(target)
        if self.distinct is not None:
            result.bodies = self.distinct
        return result


def bodies_needed(warmup: WrkResult, duration: float, minimum: int = 20_000) -> int:
    """Enough distinct bodies for `duration` at the warm-up rate (+50 %), bounded."""
    estimate = int(warmup.rps * duration * 1.5) + 1_000
    return max(minimum, min(estimate, 250_000))
