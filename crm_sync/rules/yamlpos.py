"""YAML loading that remembers where every value came from.

Admins edit the model file by hand, so every problem crm_sync reports must point at a line and a
column of *their* file. PyYAML's ``compose`` keeps a start mark on every node; this module builds
plain Python data from the node tree while recording the position of each mapping key and value
under its path (``("segments", "relationship", "rules", 2, "when")``). Pydantic reports errors
with the same kind of path (``loc``), so :meth:`YamlDoc.position` maps a validation error back to
the file. Duplicate keys are rejected: PyYAML would silently keep the last one, which hides
mistakes in long files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from crm_sync.errors import FileProblem, ModelFileError, Position

__all__ = ["Path", "YamlDoc", "load_yaml"]

Path = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """Plain data of one YAML document plus the position of every key and value in it."""

    data: Any
    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    scalar_starts: dict[Path, Position] = field(default_factory=dict)

    def position(self, loc: Sequence[str | int], *, key: bool = False) -> Position:
        """Where ``loc`` is in the file; falls back to the closest enclosing node that exists.

        ``key=True`` points at the mapping key rather than its value (used for "unknown key").
        """
        path: Path = tuple(loc)
        while path:
            if key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1, self.file))

    def text_start(self, loc: Sequence[str | int]) -> Position:
        """Where the text of a string scalar begins (after an opening quote or a block header).

        Expressions are parsed from these strings, so their own positions are shifted by this.
        """
        path: Path = tuple(loc)
        return self.scalar_starts.get(path, self.position(path))


def _pos(mark: Any, file: str) -> Position:
    return Position(int(mark.line) + 1, int(mark.column) + 1, file)


class _Builder:
    """Walks a composed node tree into plain data and records positions."""

    def __init__(self, loader: yaml.SafeLoader, doc: YamlDoc, text: str) -> None:
        self.loader = loader
        self.doc = doc
        self.lines = text.splitlines()
        self.problems: list[FileProblem] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.doc.values[path] = _pos(node.start_mark, self.doc.file)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._construct(key_node)
                key_pos = _pos(key_node.start_mark, self.doc.file)
                if not isinstance(key, str | int) or isinstance(key, bool):
                    key = str(key)
                if key == "<<":
                    self.problems.append(
                        FileProblem(
                            key_pos, "YAML merge keys (<<) are not supported; write the keys out"
                        )
                    )
                    continue
                if key in out:
                    first = self.doc.keys[(*path, key)]
                    self.problems.append(
                        FileProblem(
                            key_pos,
                            f"duplicate key '{key}' (first defined at line {first.line}); "
                            "remove one of them",
                        )
                    )
                    continue
                self.doc.keys[(*path, key)] = key_pos
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        self.doc.scalar_starts[path] = self._text_start(node)
        return self._construct(node)

    def _construct(self, node: yaml.Node) -> Any:
        """The node's value; a scalar YAML types but cannot build (``2025-13-45``) is a problem."""
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            self.problems.append(
                FileProblem(
                    _pos(node.start_mark, self.doc.file),
                    f"'{node.value}' is not a valid {tag} ({exc}); quote it to keep it as text",
                )
            )
            return str(node.value)

    def _text_start(self, node: yaml.ScalarNode) -> Position:
        start = _pos(node.start_mark, self.doc.file)
        if node.style in ('"', "'"):
            return Position(start.line, start.col + 1, start.file)
        if node.style in ("|", ">"):
            # The text starts on the line after the block header, at its indentation.
            line_no = start.line + 1
            while line_no <= len(self.lines) and not self.lines[line_no - 1].strip():
                line_no += 1
            if line_no <= len(self.lines):
                raw = self.lines[line_no - 1]
                return Position(line_no, len(raw) - len(raw.lstrip()) + 1, start.file)
        return start


def load_yaml(text: str, file: str) -> YamlDoc:
    """Parse one YAML document, keeping positions; raise :class:`ModelFileError` on bad YAML."""
    doc = YamlDoc(data=None, file=file)
    try:
        loader = yaml.SafeLoader(text)  # reads ahead: a NUL or other control byte fails here
        try:
            node = loader.get_single_node()
            if node is None:
                return doc
            builder = _Builder(loader, doc, text)
            doc.data = builder.build(node, ())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _pos(mark, file) if mark is not None else Position(1, 1, file)
        what = exc.problem or exc.context or "invalid YAML"
        raise ModelFileError(
            [FileProblem(where, f"invalid YAML: {what}; check indentation, quotes and colons")]
        ) from exc
    except yaml.reader.ReaderError as exc:
        where = Position(
            text.count("\n", 0, exc.position) + 1,
            exc.position - text.rfind("\n", 0, exc.position),
            file,
        )
        what = f"invalid YAML: character {exc.character!r} is not allowed; delete it"
        raise ModelFileError([FileProblem(where, what)]) from exc
    except yaml.YAMLError as exc:
        raise ModelFileError([FileProblem(Position(1, 1, file), f"invalid YAML: {exc}")]) from exc
    if builder.problems:
        raise ModelFileError(builder.problems)
    return doc
