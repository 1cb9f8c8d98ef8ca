"""The acme_parrot bot: answers any text with its greeting and the text it heard.

It uses only wagate's public bot plugin interface (gateway.bots.base,
gateway.bots.common, core.errors); its config entry looks like

    - plugin: acme_parrot
      greeting: "Acme here."
      shout: true          # optional: the heard text in capitals
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError
from gateway.bots.base import ConfiguredPlugin, Context, Outcome
from gateway.bots.common import PluginConfig


@dataclass(frozen=True)
class ParrotConfig(PluginConfig):
    greeting: str = ""
    shout: bool = False


class ParrotPlugin(ConfiguredPlugin[ParrotConfig]):
    config = ParrotConfig  # its fields besides the common ones are the keys it takes

    @classmethod
    def parse(cls, where: str, raw: dict[str, Any]) -> dict[str, Any]:
        greeting = raw.get("greeting")
        if not isinstance(greeting, str) or not greeting:
            raise ConfigError(f"{where}.greeting: missing 'greeting'")
        shout = raw.get("shout", False)
        if not isinstance(shout, bool):
            raise ConfigError(f"{where}.shout: expected true or false")
        return {"greeting": greeting, "shout": shout}

    async def handle(self, ctx: Context) -> Outcome:
        heard = ctx.turn.text
        if not heard:  # a sticker, a location...: the next plugin may know better
            return Outcome.PASS
        await ctx.send_text(
            f"{self.cfg.greeting} You said: {heard.upper() if self.cfg.shout else heard}"
        )
        return Outcome.HANDLED
