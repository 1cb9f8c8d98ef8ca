"""The `flows` plugin's config: flows inline or from a file, each a graph of nodes.

Errors name the flow and the node, e.g.
`tenants[0].bots[0] flow 'menu' node 'main': unknown next node 'mian'`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError
from gateway.bots.common import PluginConfig, check_keys

FLOWS_DIR = Path(__file__).parent / "flows"

FLOWS_KEYS = frozenset({"flows", "flows_file"})
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
class FlowsConfig(PluginConfig):
    flows: tuple[Flow, ...] = ()


def normalize(text: str) -> str:
    """Trimmed, case-folded, diacritics stripped: "  Olá " → "ola"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_flows(where: str, raw: dict[str, Any]) -> dict[str, Any]:
    """`FlowsConfig`'s own fields: exactly one of `flows` (inline) or `flows_file`."""
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
    return {"flows": flows}


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
    check_keys(here, raw, _FLOW_KEYS)
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
    check_keys(where, {k: v for k, v in node.items() if k != "type"}, NODE_KEYS[kind])

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
