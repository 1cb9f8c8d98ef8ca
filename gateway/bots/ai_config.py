"""The `ai` plugin's config: the model, its limits, and what the customer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from core.errors import ConfigError
from gateway.bots.common import PluginConfig, check_keys

AI_PROVIDERS = ("openai", "deepseek", "anthropic")
DEFAULT_BASE_URLS = {"deepseek": "https://api.deepseek.com"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusinessHours:
    days: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True)
class AiConfig(PluginConfig):
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


def parse_ai(where: str, raw: dict[str, Any]) -> dict[str, Any]:
    """`AiConfig`'s own fields."""
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
    return {
        "provider": str(provider),
        "model": str(raw["model"]),
        "api_key": str(raw["api_key"]),
        "base_url": str(base_url) if base_url else None,
        **values,
    }


def _hours(where: str, raw: Any) -> BusinessHours:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with days, start, end")
    check_keys(where, raw, {"days", "start", "end"})
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
