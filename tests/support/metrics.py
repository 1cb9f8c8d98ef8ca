"""Read a real gateway's `/metrics` as samples keyed by name and labels."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.procs import Gateway

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: aiohttp.ClientSession, gw: Gateway) -> str:
    async with http.get(f"{gw.url}/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


async def samples(http: aiohttp.ClientSession, gw: Gateway) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(await scrape(http, gw)):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 for a series not exported (yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)
