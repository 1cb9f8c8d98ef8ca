"""Where the test plugin packages (tests/plugins/*) are installed, and how tests see them.

`make install` puts them into a folder beside the venv, not into its site-packages, so a
user's `wagate` never lists them; the test process and every process it starts (gateways,
CLI runs) find them through sys.path and PYTHONPATH.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TEST_PLUGINS = Path(sys.prefix) / "test-plugins"


def use_test_plugins() -> None:
    """Put the plugin folder first on this process's path and on its children's."""
    folder = str(TEST_PLUGINS)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if folder not in inherited:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder, *inherited])
