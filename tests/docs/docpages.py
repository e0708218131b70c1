"""Read the docs the way the doc tests need them: fenced blocks, their directives, their outputs.

Conventions the Markdown follows (docs/reference/editor-support.md explains them to writers):

* ```` ```sh ```` blocks hold commands an admin types; the closest following ```` ```text ````
  block is what they should see. Every non-empty line of it that is not ``...`` must appear in the
  command's real output (whitespace-normalised), so the printed output cannot drift.
* ```` ```yaml ```` blocks are whole model/mapping files (validated by the loaders), fragments
  (``<!-- docs-test: fragment of=model -->``, merged into the shipped file and validated) or plain
  YAML (``<!-- docs-test: yaml -->``: it must parse).
* ``<!-- docs-test: ... -->`` right before a block (blank lines allowed) sets its directives:
  ``skip reason="..."``, ``background`` (a long-running command such as the sandbox),
  ``exit=N`` (the block is expected to end with exit code N), ``cwd=repo`` (a read-only
  maintainer command run in the repository itself rather than the reader's fresh folder).
* ``<!-- docs-test: page sandbox [size=N] -->`` anywhere in a page: the test starts a sandbox
  (seed 0, N companies, default 20) and points
  the environment at it before the page's first command (reference pages; Getting started starts
  its own, as the reader does).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SANDBOX_PORTS = ("18101", "18102")  # the ports the docs use; tests substitute free ones

_DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,})(?P<lang>[A-Za-z0-9_-]*)\s*$")


@dataclass
class Block:
    """One fenced block of a page."""

    page: Path
    line: int
    lang: str
    text: str
    directive: dict[str, str] = field(default_factory=dict)
    output: Block | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def parse_directive(body: str) -> dict[str, str]:
    """``skip reason="x y"`` → ``{"skip": "", "reason": "x y"}``."""
    out: dict[str, str] = {}
    for part in shlex.split(body):
        key, _, value = part.partition("=")
        out[key] = value
    return out


def pages() -> list[Path]:
    """Every Markdown page under docs/."""
    return sorted(DOCS.rglob("*.md"))


def page_directives(page: Path) -> list[dict[str, str]]:
    """Page-level directives (``<!-- docs-test: page ... -->``)."""
    found = []
    for line in page.read_text(encoding="utf-8").splitlines():
        m = _DIRECTIVE.match(line.strip())
        if m and m.group("body").startswith("page "):
            found.append(parse_directive(m.group("body")[5:]))
    return found


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` in order, with directives and outputs attached."""
    lines = page.read_text(encoding="utf-8").splitlines()
    result: list[Block] = []
    pending: dict[str, str] = {}
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        d = _DIRECTIVE.match(stripped)
        if d and not d.group("body").startswith("page "):
            pending = parse_directive(d.group("body"))
            i += 1
            continue
        m = _FENCE.match(stripped)
        if m:
            fence, lang = m.group("fence"), m.group("lang")
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            result.append(Block(page, start, lang, "\n".join(lines[start:j]) + "\n", pending))
            pending = {}
            i = j + 1
            continue
        if stripped and not stripped.startswith("<!--"):
            pending = {}  # a directive applies only to the block right after it
        i += 1
    last_command: Block | None = None
    for b in result:
        if b.lang == "sh":
            last_command = b
        elif b.lang == "text" and last_command is not None and last_command.output is None:
            last_command.output = b
    return result


def expected_lines(output: Block) -> list[str]:
    """The lines of an output block the real output must contain (``...`` lines elided)."""
    out = []
    for raw in output.text.splitlines():
        text = " ".join(raw.split())
        if text and text not in ("...", "…"):
            out.append(text)
    return out


def normalise(text: str) -> str:
    """Whitespace-normalised output, for substring checks line by line."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())
