"""``python -m bench [NAME ...] [--scale X] [--no-write]``: run benchmarks, record bench/results.md.

Discovers every ``bench/bench_<name>.py`` with a ``main()`` (see the contract in
:mod:`bench`), so adding a benchmark never edits this file. ``NAME`` selects some (``rules``
or ``bench_rules``); the default runs all. Each module's figures replace only its own section
of ``bench/results.md``, so running one benchmark keeps the others' last figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import inspect
import io
import os
import pkgutil
import platform
import re
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import bench
from bench import SCALE_ENV, bench_scale

RESULTS = Path(__file__).resolve().parent / "results.md"
_HEADER = """# crm_sync benchmarks

Written by `python -m bench` (`make bench`). Each section is replaced when its benchmark runs;
the date in a section says when its figures were measured. Scale 1.0 is the full size of the
issue; smaller scales are quick checks, not results.
"""


def discover() -> list[str]:
    """Names of the benchmark modules (``bench_<name>``), sorted."""
    return sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )


class _Tee(io.TextIOBase):
    """Print live and keep a copy, so a module returning ``None`` still has its output recorded."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.buffer_text = io.StringIO()

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.stream.flush()
        return self.buffer_text.write(text)


def render(result: Any, printed: str) -> str:
    """A module's return value as markdown (see the contract in :mod:`bench`)."""
    if isinstance(result, str):
        return result.strip()
    if isinstance(result, Mapping):
        lines = ["| figure | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in result.items()]
        return "\n".join(lines)
    text = printed.strip() or "(no output)"
    block = f"```\n{text}\n```"
    if isinstance(result, int | float) and not isinstance(result, bool):
        return f"Returned: **{result:g}**\n\n{block}"
    return block


def run_one(name: str, scale: float) -> tuple[str, bool]:
    """Run one module's ``main``; returns its markdown section and whether it succeeded."""
    module = importlib.import_module(f"bench.{name}")
    main = module.main
    kwargs = {"scale": scale} if "scale" in inspect.signature(main).parameters else {}
    tee = _Tee(sys.stdout)
    started = time.perf_counter()
    ok = True
    saved_argv = sys.argv
    # Modules that parse sys.argv themselves must not see the runner's arguments.
    sys.argv = [str(Path(module.__file__ or name).name)]
    try:
        with contextlib.redirect_stdout(tee):
            result = main(**kwargs)
        body = render(result, tee.buffer_text.getvalue())
    except Exception:  # one failing benchmark must not lose the others' figures
        ok = False
        body = f"**failed**\n\n```\n{traceback.format_exc()[-3000:]}\n```"
        print(body, file=sys.stderr)
    finally:
        sys.argv = saved_argv
    elapsed = time.perf_counter() - started
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    short = name.removeprefix("bench_")
    head = (
        f"## {short}\n\n_Measured {stamp}, scale {scale:g}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, benchmark took {elapsed:.0f} s._\n"
    )
    return f"<!-- bench:{short} -->\n{head}\n{body}\n<!-- /bench:{short} -->", ok


def update_results(sections: Mapping[str, str], path: Path = RESULTS) -> None:
    """Replace (or append) each named section of results.md, keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    for short, section in sections.items():
        pattern = re.compile(
            rf"<!-- bench:{re.escape(short)} -->.*?<!-- /bench:{re.escape(short)} -->", re.S
        )
        if pattern.search(text):
            text = pattern.sub(lambda _m, s=section: s, text)
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. rules")
    parser.add_argument(
        "--scale", type=float, default=None, help=f"size factor (default ${SCALE_ENV} or 1.0)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.md")
    args = parser.parse_args(argv)
    scale = args.scale if args.scale is not None else bench_scale()
    if scale <= 0:
        parser.error("--scale must be > 0")
    os.environ[SCALE_ENV] = repr(scale)
    available = discover()
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    sections: dict[str, str] = {}
    failed = 0
    for name in wanted:
        print(f"== {name} (scale {scale:g})", flush=True)
        section, ok = run_one(name, scale)
        sections[name.removeprefix("bench_")] = section
        failed += not ok
        print(section, flush=True)
    if not args.no_write:
        update_results(sections)
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
