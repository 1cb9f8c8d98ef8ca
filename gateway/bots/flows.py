"""The `flows` plugin: keyword-triggered conversation graphs (docs/bots.md)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from gateway.bots.base import ConfiguredPlugin, Context, Outcome, Setup, log
from gateway.bots.flow_config import FLOWS_KEYS, Flow, FlowsConfig, Trigger, normalize, parse_flows
from storage.bots import ACTIVE, COMPLETED, ERRORED, PAUSED, SessionRow
from storage.times import now
from wagate.v1 import message_pb2

M = message_pb2
MAX_STEPS = 100  # nodes run per turn before a flow is declared looping (Errored)
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


def matches(mode: str, pattern: str, text: str) -> bool:
    """`pattern` is normalized already; `text` is the raw message text."""
    if mode == "default":
        return True
    value = normalize(text)
    if mode == "exact":
        return value == pattern
    if mode == "contains":
        return pattern in value
    return re.search(rf"(?<!\w){re.escape(pattern)}(?!\w)", value) is not None


def triggered(triggers: tuple[Trigger, ...], text: str) -> bool:
    return any(matches(t.mode, t.text, text) for t in triggers)


def render(template: str, variables: dict[str, Any], contact: message_pb2.Contact) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("contact."):
            return str(getattr(contact, name[8:], "") or "")
        return str(variables.get(name, ""))

    return _TEMPLATE.sub(sub, template)


class FlowsPlugin(ConfiguredPlugin[FlowsConfig]):
    config = FlowsConfig
    keys = FLOWS_KEYS
    parse = staticmethod(parse_flows)

    def __init__(self, cfg: FlowsConfig, setup: Setup) -> None:
        super().__init__(cfg, setup)
        self.flows = {f.name: f for f in cfg.flows}

    def _live(self, row: SessionRow | None, flow: Flow) -> bool:
        if row is None or row.status not in (ACTIVE, PAUSED):
            return False
        if flow.timeout_minutes and row.updated_at is not None:
            return now() - row.updated_at <= timedelta(minutes=flow.timeout_minutes)
        return True

    async def handle(self, ctx: Context) -> Outcome:
        turn = ctx.turn
        for flow in self.flows.values():  # a live session takes the message first
            row = turn.sessions.get(flow.name)
            if row is not None and self._live(row, flow):
                if row.status == PAUSED:
                    return Outcome.HANDLED  # a human has it
                return await self._run(ctx, flow, row, resume=True)
        for flow in self.flows.values():
            if triggered(flow.triggers, turn.text):
                row = SessionRow(flow.name, flow.start, ACTIVE, {})
                return await self._run(ctx, flow, row, resume=False)
        return Outcome.PASS

    async def _save(self, ctx: Context, row: SessionRow) -> None:
        row.updated_at = now()
        ctx.turn.sessions[row.flow] = row
        await ctx.host.save_session(ctx.turn, row)

    async def _run(self, ctx: Context, flow: Flow, row: SessionRow, *, resume: bool) -> Outcome:
        turn = ctx.turn
        node_id: str | None = row.node
        variables = row.vars
        if resume:  # the session waits on `node`: this message is its reply
            node = flow.nodes[row.node]
            if node.get("var"):
                variables[str(node["var"])] = turn.text
            variables["last_reply"] = turn.text
            node_id = node.get("next")
        try:
            for _ in range(MAX_STEPS):
                if node_id is None:
                    row.status = COMPLETED
                    await self._save(ctx, row)
                    return Outcome.HANDLED
                row.node = node_id
                node = flow.nodes[node_id]
                kind = node["type"]
                if kind == "wait":
                    row.status = ACTIVE
                    await self._save(ctx, row)
                    return Outcome.HANDLED
                if kind in ("text", "media", "buttons", "list"):
                    await ctx.send(self._content(node, variables, turn.contact))
                    node_id = node.get("next")
                elif kind == "set":
                    variables[str(node["var"])] = render(
                        str(node["value"]), variables, turn.contact
                    )
                    node_id = node["next"]
                elif kind == "branch":
                    node_id = self._branch(node, ctx)
                elif kind in ("handoff", "end"):
                    if node.get("text"):
                        await ctx.send_text(render(str(node["text"]), variables, turn.contact))
                    row.status = PAUSED if kind == "handoff" else COMPLETED
                    await self._save(ctx, row)
                    return Outcome.HANDOFF if kind == "handoff" else Outcome.HANDLED
                elif kind == "pass":
                    row.status = COMPLETED
                    await self._save(ctx, row)
                    return Outcome.PASS
            raise RuntimeError(f"more than {MAX_STEPS} nodes in one turn (a loop without wait?)")
        except Exception:
            log.exception(
                "flow failed", extra={"flow": flow.name, "node": row.node, "tenant": turn.tenant_id}
            )
            row.status = ERRORED
            await self._save(ctx, row)
            return Outcome.HANDLED

    def _branch(self, node: dict[str, Any], ctx: Context) -> str | None:
        by = node.get("by", "reply")
        turn = ctx.turn
        value = turn.reply_id if by == "id" else turn.text if by == "text" else ""
        if by == "reply":
            value = turn.reply_id or turn.text
        for case in node["cases"]:
            for mode in ("exact", "contains", "word"):
                if mode in case and matches(mode, normalize(str(case[mode])), value):
                    return str(case["next"])
        default = node.get("default")
        if default is None:
            raise RuntimeError("no case matched and the branch has no default")
        return str(default)

    @staticmethod
    def _content(
        node: dict[str, Any], variables: dict[str, Any], contact: message_pb2.Contact
    ) -> message_pb2.Message:
        def r(value: Any) -> str:
            return render(str(value or ""), variables, contact)

        kind = node["type"]
        if kind == "text":
            return M.Message(text=M.TextContent(body=r(node["text"])))
        if kind == "media":
            media = M.MediaContent(link=r(node["link"]), caption=r(node.get("caption")))
            if node.get("filename"):
                media.filename = r(node["filename"])
            msg = M.Message()
            getattr(msg, node["kind"]).CopyFrom(media)
            return msg
        if kind == "buttons":
            buttons = [M.ReplyButton(id=str(b["id"]), title=r(b["title"])) for b in node["buttons"]]
            return M.Message(
                interactive=M.InteractiveContent(
                    body=r(node["text"]), buttons=M.ButtonsAction(buttons=buttons)
                )
            )
        sections = [
            M.ListSection(
                title=r(s.get("title")),
                rows=[
                    M.ListRow(
                        id=str(x["id"]), title=r(x["title"]), description=r(x.get("description"))
                    )
                    for x in s["rows"]
                ],
            )
            for s in node["sections"]
        ]
        return M.Message(
            interactive=M.InteractiveContent(
                body=r(node["text"]),
                list=M.ListAction(button=r(node.get("button")) or "Options", sections=sections),
            )
        )
