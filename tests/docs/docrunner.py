"""Run a page's shell blocks in order, as a reader would in one terminal (plus a second one).

Each block runs in ``bash`` with ``set -eo pipefail``; exported variables and the working
directory carry over to the next block, like one terminal session. A ``background`` block (the
sandbox) runs in its own process group, "in another terminal", until the page is done. The venv's
``crm-sync`` is first on PATH; CRM variables from the developer's environment are removed so a
page can only use what it sets itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from docpages import ROOT, SANDBOX_PORTS, Block, expected_lines, normalise

_ELLIPSIS = ("...", "…")


def printed(expected: str, actual: str) -> bool:
    """Whether ``expected`` appears in ``actual``; ``...`` inside a line matches anything.

    Values that depend on the day the sandbox is seeded (amounts near a window's edge) are
    written as ``...`` so the documented line stays true every day.
    """
    if not any(e in expected for e in _ELLIPSIS):
        return expected in actual
    parts = [p.strip() for p in expected.replace("…", "...").split("...") if p.strip()]
    for line in actual.splitlines():
        pos = 0
        for part in parts:
            found = line.find(part, pos)
            if found < 0:
                break
            pos = found + len(part)
        else:
            return True
    return False


_CRM_VARS = ("CRM_SYNC_", "HUBSPOT_", "SALESFORCE_")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The test process environment without CRM settings, with the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CRM_VARS)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def prepare_workdir(tmp: Path) -> Path:
    """A fresh folder holding copies of mappings/ and examples/ (what a clone gives the reader)."""
    import shutil

    work = tmp / "work"
    work.mkdir()
    for name in ("mappings", "examples"):
        shutil.copytree(ROOT / name, work / name)
    return work


class Session:
    """One reader's terminal: environment and working directory carried from block to block."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = env or clean_env()
        self.ports = {p: str(free_port()) for p in SANDBOX_PORTS}
        self.background: list[subprocess.Popen[str]] = []
        self.transcript: list[str] = []
        self.outputs: dict[str, str] = {}
        self.readers: list[threading.Thread] = []

    def substitute(self, text: str) -> str:
        """The documented sandbox ports replaced by the free ones this test uses."""
        for documented, actual in self.ports.items():
            text = text.replace(documented, actual)
        return text

    def run(self, block: Block, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run one ``sh`` block; check its exit code and its documented output."""
        script = self.substitute(block.text)
        expect = int(block.directive.get("exit", "0"))
        with tempfile.TemporaryDirectory() as state:
            wrapped = (
                f"{'set -o pipefail' if expect else 'set -eo pipefail'}\n{script}\n"
                f'__rc=$?; env -0 > "{state}/env"; pwd > "{state}/pwd"; exit $__rc\n'
            )
            in_repo = block.directive.get("cwd") == "repo"  # read-only maintainer commands
            proc = subprocess.run(
                ["bash", "-c", wrapped],
                cwd=ROOT if in_repo else self.cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            out = proc.stdout + proc.stderr
            self.transcript.append(f"$ {script}{out}")
            assert proc.returncode == expect, (
                f"{block.where}: exit {proc.returncode}, expected {expect}\n{script}\n{out}"
            )
            env_file, pwd_file = Path(state, "env"), Path(state, "pwd")
            if env_file.exists():
                pairs = env_file.read_text().split("\0")
                self.env = dict(p.split("=", 1) for p in pairs if "=" in p)
                if not in_repo:
                    self.cwd = Path(pwd_file.read_text().strip())
        if block.output is not None:
            actual = normalise(out)
            for raw in expected_lines(block.output):
                line = self.substitute(raw)
                assert printed(line, actual), (
                    f"{block.output.where}: documented output line not printed:\n  {line}\n"
                    f"actual output of {block.where}:\n{out}"
                )
        return proc

    def start_background(self, block: Block, ready: str = "serving", timeout: float = 60) -> None:
        """Start a long-running block (the reader's second terminal) and wait until it is ready."""
        script = self.substitute(block.text)
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {script.strip()}"],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.background.append(proc)
        lines: list[str] = []
        seen = threading.Event()

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if ready in line:
                    seen.set()

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        self.readers.append(thread)
        deadline = time.monotonic() + timeout
        while not seen.is_set() and time.monotonic() < deadline and proc.poll() is None:
            seen.wait(0.1)
        assert seen.is_set(), f"{block.where}: never printed '{ready}':\n{''.join(lines)}"
        if block.output is not None:
            actual = normalise("".join(lines))
            for raw in expected_lines(block.output):
                line = self.substitute(raw)
                assert printed(line, actual), f"{block.output.where}: not printed: {line}\n{actual}"

    def close(self) -> None:
        """Stop every background process (Ctrl-C in the second terminal)."""
        for proc in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        for thread in self.readers:
            thread.join(timeout=10)
        for proc in self.background:
            if proc.stdout is not None:
                proc.stdout.close()
