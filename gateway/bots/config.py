"""The `bots:` section of a tenant: parsed and validated at start.

Errors are `ConfigError`s with one line that names the tenant, the plugin, and
for flows the flow and the node, e.g.
`tenants[0].bots[0] flow 'menu' node 'main': unknown next node 'mian'`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError

FLOWS_DIR = Path(__file__).parent / "flows"

PLUGINS = ("flows", "ai")
AI_PROVIDERS = ("openai", "deepseek", "anthropic")
DEFAULT_BASE_URLS = {"deepseek": "https://api.deepseek.com"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_COMMON = {"plugin", "name", "priority", "channels"}
_FLOWS_KEYS = {*_COMMON, "flows", "flows_file"}
_AI_KEYS = {
    *_COMMON,
    "provider",
    "model",
    "api_key",
    "base_url",
    "system_prompt",
    "history_limit",
    "max_tokens",
    "timeout_s",
    "fallback_message",
    "daily_limit",
    "daily_limit_message",
    "business_hours",
    "out_of_hours_message",
    "quota_messages",
    "expires_at",
    "expired_message",
    "debounce_ms",
    "breaker_failures",
    "breaker_reset_s",
}
_FLOW_KEYS = {"name", "triggers", "start", "nodes", "timeout_minutes"}
MATCH_MODES = ("exact", "contains", "word")
# Node type → allowed keys (besides `type`).
NODE_KEYS: dict[str, set[str]] = {
    "text": {"text", "next"},
    "media": {"kind", "link", "caption", "filename", "next"},
    "buttons": {"text", "buttons", "next"},
    "list": {"text", "button", "sections", "next"},
    "wait": {"var", "next"},
    "branch": {"by", "cases", "default"},
    "set": {"var", "value", "next"},
    "handoff": {"text"},
    "pass": set(),
    "end": {"text"},
}
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Trigger:
    mode: str  # exact | contains | word | default
    text: str  # normalized


@dataclass(frozen=True)
class Flow:
    name: str
    triggers: tuple[Trigger, ...]
    start: str
    nodes: dict[str, dict[str, Any]]
    timeout_minutes: float = 0


@dataclass(frozen=True)
class BusinessHours:
    days: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True)
class PluginConfig:
    plugin: str
    name: str
    priority: int
    channels: tuple[str, ...] = ()
    flows: tuple[Flow, ...] = ()
    # ai
    provider: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)
    base_url: str | None = None
    system_prompt: str = ""
    history_limit: int = 20
    max_tokens: int = 512
    timeout_s: float = 30.0
    fallback_message: str = "Sorry, I can't answer right now. Please try again in a few minutes."
    daily_limit: int = 0
    daily_limit_message: str = "You have reached today's message limit. Please come back tomorrow."
    business_hours: BusinessHours | None = None
    out_of_hours_message: str = "We are closed right now. We will answer during business hours."
    quota_messages: int = 0
    expires_at: date | None = None
    expired_message: str = "This assistant is not available at the moment."
    debounce_ms: int = 0
    breaker_failures: int = 5
    breaker_reset_s: float = 600.0


def normalize(text: str) -> str:
    """Trimmed, case-folded, diacritics stripped: "  Olá " → "ola"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_bots(where: str, bots: Any) -> tuple[PluginConfig, ...]:
    """Validate a tenant's `bots:` list; raises ConfigError naming what is wrong."""
    if not isinstance(bots, (list, tuple)):
        raise ConfigError(f"{where}: expected a list of mappings")
    out = []
    names: set[str] = set()
    for i, raw in enumerate(bots):
        here = f"{where}[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{here}: expected a mapping")
        plugin = raw.get("plugin")
        if plugin not in PLUGINS:
            raise ConfigError(f"{here}: unknown plugin '{plugin}' (one of {', '.join(PLUGINS)})")
        cfg = _flows(here, raw, i) if plugin == "flows" else _ai(here, raw, i)
        if cfg.name in names:
            raise ConfigError(f"{here}: duplicate plugin name '{cfg.name}'")
        names.add(cfg.name)
        out.append(cfg)
    return tuple(out)


def _check_keys(where: str, data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{key}'")


def _common(where: str, raw: dict[str, Any], index: int) -> dict[str, Any]:
    channels = raw.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ConfigError(f"{where}.channels: expected a list of channel ids")
    try:
        priority = int(raw.get("priority", (index + 1) * 100))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.priority: expected an integer") from None
    return {
        "plugin": raw["plugin"],
        "name": str(raw.get("name") or raw["plugin"]),
        "priority": priority,
        "channels": tuple(channels),
    }


def _flows(where: str, raw: dict[str, Any], index: int) -> PluginConfig:
    _check_keys(where, raw, _FLOWS_KEYS)
    if ("flows" in raw) == ("flows_file" in raw):
        raise ConfigError(f"{where}: set exactly one of 'flows' or 'flows_file'")
    if "flows_file" in raw:
        data = load_flows_file(where, str(raw["flows_file"]))
    else:
        data = raw["flows"]
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{where}.flows: expected a non-empty list of flows")
    flows = tuple(parse_flow(f"{where}", f, i) for i, f in enumerate(data))
    seen: set[str] = set()
    for flow in flows:
        if flow.name in seen:
            raise ConfigError(f"{where} flow '{flow.name}': duplicate flow name")
        seen.add(flow.name)
    return PluginConfig(**_common(where, raw, index), flows=flows)


def load_flows_file(where: str, name: str) -> Any:
    """YAML or JSON; a bare name not found on disk is looked up among the shipped flows."""
    path = Path(name)
    if not path.exists() and (FLOWS_DIR / name).exists():
        path = FLOWS_DIR / name
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{where}.flows_file: {name}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{where}.flows_file: {name}: invalid {path.suffix[1:]} ({exc})"
        ) from None
    if isinstance(data, dict) and "flows" in data:
        data = data["flows"]
    return data


def _trigger(where: str, raw: Any) -> Trigger:
    if isinstance(raw, str):
        text = normalize(raw)
        return Trigger("default" if text == "default" else "exact", text)
    if isinstance(raw, dict) and len(raw) == 1:
        mode, value = next(iter(raw.items()))
        if mode in MATCH_MODES and isinstance(value, str) and normalize(value):
            return Trigger(mode, normalize(value))
    raise ConfigError(
        f"{where}: a trigger is a string (exact), 'default', or one of"
        " {exact: ...}, {contains: ...}, {word: ...}"
    )


def parse_flow(where: str, raw: Any, index: int) -> Flow:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}.flows[{index}]: expected a mapping")
    name = str(raw.get("name") or "")
    if not name:
        raise ConfigError(f"{where}.flows[{index}]: missing 'name'")
    here = f"{where} flow '{name}'"
    _check_keys(here, raw, _FLOW_KEYS)
    triggers = raw.get("triggers") or []
    if not isinstance(triggers, list):
        raise ConfigError(f"{here}: 'triggers' must be a list")
    nodes = raw.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise ConfigError(f"{here}: 'nodes' must be a non-empty mapping of node id to node")
    start = str(raw.get("start") or next(iter(nodes)))
    if start not in nodes:
        raise ConfigError(f"{here}: start node '{start}' does not exist")
    for node_id, node in nodes.items():
        _check_node(f"{here} node '{node_id}'", node, nodes)
    try:
        timeout = float(raw.get("timeout_minutes") or 0)
    except (TypeError, ValueError):
        raise ConfigError(f"{here}: 'timeout_minutes' must be a number") from None
    return Flow(
        name=name,
        triggers=tuple(_trigger(f"{here} triggers", t) for t in triggers),
        start=start,
        nodes={str(k): v for k, v in nodes.items()},
        timeout_minutes=timeout,
    )


def _check_node(where: str, node: Any, nodes: dict[str, Any]) -> None:
    if not isinstance(node, dict):
        raise ConfigError(f"{where}: expected a mapping")
    kind = node.get("type")
    if kind not in NODE_KEYS:
        raise ConfigError(f"{where}: unknown type '{kind}' (one of {', '.join(NODE_KEYS)})")
    _check_keys(where, {k: v for k, v in node.items() if k != "type"}, NODE_KEYS[kind])

    def target(key: str, required: bool) -> None:
        value = node.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{where}: missing '{key}'")
            return
        if str(value) not in nodes:
            raise ConfigError(f"{where}: unknown {key} node '{value}'")

    def need(key: str, typ: type) -> None:
        if not isinstance(node.get(key), typ) or not node.get(key):
            raise ConfigError(f"{where}: missing or invalid '{key}'")

    if "next" in NODE_KEYS[kind]:
        target("next", kind in ("wait", "set"))
    if kind in ("text", "buttons", "list"):
        need("text", str)
    if kind == "buttons":
        need("buttons", list)
        for b in node["buttons"]:
            if not isinstance(b, dict) or not b.get("id") or not b.get("title"):
                raise ConfigError(f"{where}: each button needs an 'id' and a 'title'")
        if len(node["buttons"]) > 3:
            raise ConfigError(f"{where}: at most 3 buttons")
    if kind == "list":
        need("sections", list)
        for s in node["sections"]:
            rows = s.get("rows") if isinstance(s, dict) else None
            if not isinstance(rows, list) or not rows:
                raise ConfigError(f"{where}: each section needs 'rows'")
            for r in rows:
                if not isinstance(r, dict) or not r.get("id") or not r.get("title"):
                    raise ConfigError(f"{where}: each row needs an 'id' and a 'title'")
    if kind == "media":
        if node.get("kind") not in MEDIA_KINDS:
            raise ConfigError(f"{where}: 'kind' must be one of {', '.join(MEDIA_KINDS)}")
        need("link", str)
    if kind in ("wait", "set") and "var" in node and not _VAR.match(str(node["var"])):
        raise ConfigError(f"{where}: invalid variable name '{node['var']}'")
    if kind == "set":
        need("var", str)
        if "value" not in node:
            raise ConfigError(f"{where}: missing 'value'")
    if kind == "branch":
        if node.get("by", "reply") not in ("reply", "id", "text"):
            raise ConfigError(f"{where}: 'by' must be reply, id or text")
        need("cases", list)
        for case in node["cases"]:
            if not isinstance(case, dict) or "next" not in case:
                raise ConfigError(f"{where}: each case needs 'next' and one of exact/contains/word")
            modes = [m for m in MATCH_MODES if m in case]
            if len(modes) != 1 or set(case) - {"next", *MATCH_MODES}:
                raise ConfigError(f"{where}: each case needs 'next' and one of exact/contains/word")
            if str(case["next"]) not in nodes:
                raise ConfigError(f"{where}: unknown case next node '{case['next']}'")
        target("default", False)


def _ai(where: str, raw: dict[str, Any], index: int) -> PluginConfig:
    _check_keys(where, raw, _AI_KEYS)
    provider = raw.get("provider")
    if provider not in AI_PROVIDERS:
        raise ConfigError(f"{where}.provider: one of {', '.join(AI_PROVIDERS)}, got '{provider}'")
    for key in ("model", "api_key"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where}.{key}: missing '{key}'")
    values: dict[str, Any] = {}
    for key, typ in (
        ("history_limit", int),
        ("max_tokens", int),
        ("timeout_s", float),
        ("daily_limit", int),
        ("quota_messages", int),
        ("debounce_ms", int),
        ("breaker_failures", int),
        ("breaker_reset_s", float),
    ):
        if key in raw:
            try:
                values[key] = typ(raw[key])
            except (TypeError, ValueError):
                raise ConfigError(f"{where}.{key}: expected {typ.__name__}") from None
            if values[key] < 0:
                raise ConfigError(f"{where}.{key}: must not be negative")
    for key in (
        "system_prompt",
        "fallback_message",
        "daily_limit_message",
        "out_of_hours_message",
        "expired_message",
    ):
        if key in raw:
            values[key] = str(raw[key])
    if "expires_at" in raw and raw["expires_at"] is not None:
        value = raw["expires_at"]
        try:
            values["expires_at"] = value if isinstance(value, date) else date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}.expires_at: expected a date YYYY-MM-DD") from None
    if raw.get("business_hours") is not None:
        values["business_hours"] = _hours(f"{where}.business_hours", raw["business_hours"])
    base_url = raw.get("base_url") or DEFAULT_BASE_URLS.get(str(provider))
    return PluginConfig(
        **_common(where, raw, index),
        provider=str(provider),
        model=str(raw["model"]),
        api_key=str(raw["api_key"]),
        base_url=str(base_url) if base_url else None,
        **values,
    )


def _hours(where: str, raw: Any) -> BusinessHours:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with days, start, end")
    _check_keys(where, raw, {"days", "start", "end"})
    days = raw.get("days", list(DAYS[:5]))
    if not isinstance(days, list) or not all(str(d).lower()[:3] in DAYS for d in days):
        raise ConfigError(f"{where}.days: a list of mon, tue, wed, thu, fri, sat, sun")
    try:
        start, end = _clock(raw.get("start", "09:00")), _clock(raw.get("end", "18:00"))
    except ValueError:
        raise ConfigError(f"{where}: start and end are HH:MM") from None
    return BusinessHours(tuple(DAYS.index(str(d).lower()[:3]) for d in days), start, end)


def _clock(value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 18:00 as 1080 (sexagesimal)
        return time(value // 60, value % 60)
    return time.fromisoformat(str(value))
