"""The `ai` plugin: OpenAI, DeepSeek (OpenAI-compatible) and Anthropic via their SDKs.

Before a model call: subscription end / quota, business hours, the contact's
daily limit, and the breaker, each with its own customer-facing text. A failed
or timed-out call answers with `fallback_message`, never an error string.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.metrics import AI_BREAKER_OPEN, AI_REQUEST_SECONDS, AI_TOKENS
from gateway.bots.ai_config import AiConfig, parse_ai
from gateway.bots.base import ConfiguredPlugin, Context, Outcome, Setup, log
from storage.bots import history, record_usage, usage_counts

if TYPE_CHECKING:  # the SDKs take seconds to import: only tenants with an ai plugin pay
    import anthropic
    import openai


@dataclass
class Breaker:
    """Opens after `threshold` consecutive failures; closes again after `reset_s`."""

    threshold: int
    reset_s: float
    failures: int = 0
    opened_at: float | None = None

    def allows(self) -> bool:
        if self.opened_at is None:
            return True
        if clock.monotonic() - self.opened_at >= self.reset_s:
            self.opened_at, self.failures = None, 0  # reset: the next call tries again
            return True
        return False

    def record(self, ok: bool) -> None:
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.threshold and self.opened_at is None:
            self.opened_at = clock.monotonic()


def day_start(tz: ZoneInfo, at: datetime) -> datetime:
    """Midnight of `at`'s day in `tz`, in UTC: a new thread starts each local day."""
    local = at.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


class AiPlugin(ConfiguredPlugin[AiConfig]):
    config = AiConfig
    parse = staticmethod(parse_ai)

    def __init__(self, cfg: AiConfig, setup: Setup) -> None:
        super().__init__(cfg, setup)
        self.debounce_ms = cfg.debounce_ms
        # One breaker per (tenant, provider, model), shared by plugins that use the same model.
        self.breaker: Breaker = setup.shared.setdefault(
            ("ai", setup.tenant_id, cfg.provider, cfg.model),
            Breaker(cfg.breaker_failures or 5, cfg.breaker_reset_s),
        )
        self.anthropic: anthropic.AsyncAnthropic | None = None
        self.openai: openai.AsyncOpenAI | None = None
        if cfg.provider == "anthropic":
            import anthropic

            self.anthropic = anthropic.AsyncAnthropic(
                api_key=cfg.api_key, base_url=cfg.base_url, timeout=cfg.timeout_s, max_retries=0
            )
        else:
            import openai

            self.openai = openai.AsyncOpenAI(
                api_key=cfg.api_key, base_url=cfg.base_url, timeout=cfg.timeout_s, max_retries=0
            )

    async def close(self) -> None:
        for client in (self.anthropic, self.openai):
            if client is not None:
                await client.close()

    def _refusal(self, tz: ZoneInfo, at: datetime, total: int, today: int) -> str | None:
        cfg = self.cfg
        local = at.astimezone(tz)
        if (cfg.expires_at and local.date() > cfg.expires_at) or (
            cfg.quota_messages and total >= cfg.quota_messages
        ):
            return cfg.expired_message
        hours = cfg.business_hours
        if hours is not None and (
            local.weekday() not in hours.days or not hours.start <= local.time() < hours.end
        ):
            return cfg.out_of_hours_message
        if cfg.daily_limit and today >= cfg.daily_limit:
            return cfg.daily_limit_message
        return None

    async def handle(self, ctx: Context) -> Outcome:
        turn = ctx.turn
        tz = ZoneInfo(turn.timezone)
        at = datetime.now(UTC)
        since = day_start(tz, at)
        total, today = await ctx.host.write(
            usage_counts, turn.tenant_id, turn.conversation_id, since
        )
        refusal = self._refusal(tz, at, total, today)
        if refusal is not None:
            await ctx.send_text(refusal)
            return Outcome.HANDLED
        if not self.breaker.allows():
            await ctx.send_text(self.cfg.fallback_message)
            return Outcome.HANDLED
        thread = await ctx.host.write(history, turn.conversation_id, since, self.cfg.history_limit)
        await ctx.typing(True)
        started = clock.monotonic()
        try:
            text, tokens = await self._complete(thread)
        except Exception as exc:
            self.breaker.record(False)
            self._observe(turn.tenant_id, started, None)
            log.warning(
                "AI call failed",
                extra={
                    "tenant": turn.tenant_id,
                    "model": self.cfg.model,
                    "error": type(exc).__name__,
                    "failures": self.breaker.failures,
                },
            )
            await ctx.typing(False)
            await ctx.send_text(self.cfg.fallback_message)
            return Outcome.HANDLED
        self.breaker.record(True)
        self._observe(turn.tenant_id, started, tokens)
        await ctx.host.write(
            record_usage,
            turn.tenant_id,
            turn.conversation_id,
            self.cfg.provider,
            self.cfg.model,
            tokens,
            datetime.now(UTC),
        )
        await ctx.typing(False)
        await ctx.send_text(text or self.cfg.fallback_message)
        return Outcome.HANDLED

    def _observe(self, tenant_id: str, started: float, tokens: tuple[int, int] | None) -> None:
        """A model call's latency and tokens (None: it failed), and the breaker's state."""
        provider, model = self.cfg.provider, self.cfg.model
        outcome = "error" if tokens is None else "ok"
        AI_REQUEST_SECONDS.labels(provider, model, outcome).observe(clock.monotonic() - started)
        if tokens is not None:
            AI_TOKENS.labels(provider, model, "input").inc(tokens[0])
            AI_TOKENS.labels(provider, model, "output").inc(tokens[1])
        AI_BREAKER_OPEN.labels(tenant_id, provider, model).set(self.breaker.opened_at is not None)

    async def _complete(self, thread: list[tuple[str, str]]) -> tuple[str, tuple[int, int]]:
        cfg = self.cfg
        if self.anthropic is not None:
            import anthropic

            messages = _alternating(thread)
            reply = await self.anthropic.messages.create(
                model=cfg.model,
                max_tokens=cfg.max_tokens,
                system=cfg.system_prompt or anthropic.omit,
                messages=messages,  # type: ignore[arg-type]
            )
            text = "".join(b.text for b in reply.content if b.type == "text")
            return text, (reply.usage.input_tokens, reply.usage.output_tokens)
        chat: list[dict[str, str]] = []
        if cfg.system_prompt:
            chat.append({"role": "system", "content": cfg.system_prompt})
        chat += [{"role": role, "content": content} for role, content in thread]
        assert self.openai is not None
        completion = await self.openai.chat.completions.create(
            model=cfg.model,
            messages=chat,  # type: ignore[arg-type]
            max_tokens=cfg.max_tokens,
        )
        usage = completion.usage
        tokens = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
        return completion.choices[0].message.content or "", tokens


def _alternating(thread: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Anthropic wants user first and roles alternating: merge runs, drop a leading reply."""
    out: list[dict[str, str]] = []
    for role, text in thread:
        if not out and role != "user":
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"] += "\n" + text
        else:
            out.append({"role": role, "content": text})
    return out
