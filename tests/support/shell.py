"""One bash that receives commands as a reader pastes them (the demo's printed commands,
docs/admin.md's blocks), so a documented command is tested exactly as it is written."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

# Pasting into an interactive bash expands `!` (history) and runs each line as typed.
PASTED = "set -o history -o histexpand -o pipefail\n"
# The wrapper makes curl fail on an HTTP error status, without changing the commands.
PRELUDE = PASTED + 'curl() { command curl --fail-with-body "$@"; }\n'


class PastedShell:
    """One bash that receives the commands one at a time, as a reader pastes them."""

    def __init__(
        self, cwd: Path, prelude: str = PRELUDE, env: dict[str, str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            ["bash"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.send(prelude)

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def run(self, command: str, timeout: float = 30.0) -> tuple[int, str]:
        """The command's exit status and its output."""
        assert self.proc.stdout is not None
        self.send(f"{command}\nprintf '\\n@@end %d\\n' $?")
        killer = threading.Timer(timeout, self.proc.kill)
        killer.start()
        lines: list[str] = []
        try:
            while not (line := self.proc.stdout.readline()).startswith("@@end "):
                assert line, f"bash ended during:\n{command}\n{''.join(lines)}"
                lines.append(line)
        finally:
            killer.cancel()
        return int(line.split()[1]), "".join(lines).strip()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)
