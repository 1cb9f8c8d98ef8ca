"""Where things are in the checkout, for tests that run files beside them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
NODE_DIR = TESTS / "node"
PLUGINS = TESTS / "plugins"
