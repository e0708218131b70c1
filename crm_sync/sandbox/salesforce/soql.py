"""SOQL tokenizer and parser for the subset crm_sync's adapter sends.

Why a real parser instead of regexes: the adapter builds queries with ``format_soql`` (escaped
quotes, datetimes with offsets, ``IN`` lists) and must see the *same* refusals a real org gives:
``MALFORMED_QUERY`` with the caret-pointing message, and SOQL's rule that ``AND`` and ``OR``
cannot be mixed at one level without parentheses. Supported: select lists with parent paths
(``Account.Name``) and ``COUNT()``, WHERE with AND/OR/NOT/parentheses, comparisons,
``[NOT] IN``, ``LIKE``, ``INCLUDES``/``EXCLUDES``, ``null``, date and datetime literals and date
keywords (``LAST_N_DAYS:7``), ORDER BY with ASC/DESC and NULLS FIRST/LAST, LIMIT and OFFSET.
Anything else (semi-joins, GROUP BY, subqueries) is refused as malformed rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from crm_sync.sandbox.salesforce.errors import SfError

__all__ = [
    "BoolOp",
    "Compare",
    "FieldPath",
    "Literal",
    "Not",
    "OrderItem",
    "Query",
    "located_error",
    "parse",
]

MAX_QUERY_LENGTH = 100_000  # facts §4.2: SOQL statements are at most 100,000 characters
MAX_LITERAL_LENGTH = 4_000  # facts §4.2: each string literal in WHERE is at most 4,000

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),.:])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}
_RESERVED = frozenset(
    {"select", "from", "where", "and", "or", "not", "order", "by", "limit", "offset", "in",
     "includes", "excludes", "like", "asc", "desc", "nulls", "first", "last", "null", "true",
     "false", "group", "having", "with", "for", "using", "typeof"}
)  # fmt: skip


@dataclass(frozen=True)
class Tok:
    """One token; ``pos`` is its 0-based offset in the query text."""

    kind: str
    text: str
    pos: int
    value: Any = None

    def kw(self, *words: str) -> bool:
        """Whether this is an identifier spelling one of ``words`` (case-insensitive)."""
        return self.kind == "ident" and self.text.lower() in words


@dataclass(frozen=True)
class FieldPath:
    """``Name`` or ``Account.Name``: relationship names, then a field."""

    parts: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class Literal:
    """A value in WHERE: kind is string/number/bool/null/date/datetime/dateliteral."""

    kind: str
    value: Any
    pos: int
    text: str


@dataclass(frozen=True)
class Compare:
    """``path op value``; op is ``=``/``!=``/``<``.../``in``/``not in``/``like``/``includes``..."""

    path: FieldPath
    op: str
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    """``AND``/``OR`` over two or more conditions (never mixed: SOQL requires parentheses)."""

    op: str
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """``NOT condition``."""

    item: Condition


Condition = Compare | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key; SOQL defaults to ASC NULLS FIRST, and DESC to NULLS LAST."""

    path: FieldPath
    desc: bool
    nulls_last: bool


@dataclass
class Query:
    """A parsed SELECT."""

    text: str
    sobject: str
    sobject_pos: int
    fields: list[FieldPath] = field(default_factory=list)
    count: bool = False
    where: Condition | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def located_error(text: str, pos: int, code: str, message: str) -> SfError:
    """The real error text: the query line, a caret, ``ERROR at Row:r:Column:c``, the reason."""
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end != -1 else len(text)]
    col = pos - line_start
    start = max(0, col - 60)
    snippet = line[start : col + 60]
    caret = " " * (col - start) + "^"
    return SfError(code, f"\n{snippet}\n{caret}\nERROR at Row:{row}:Column:{col + 1}\n{message}")


def _unescape(text: str, raw: str, pos: int) -> str:
    out = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in _LIKE_ESCAPES:
                out.append(_LIKE_ESCAPES[nxt])  # kept escaped; only LIKE gives it meaning
            else:
                raise located_error(
                    text,
                    pos + i + 1,
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{raw}'. Illegal character sequence '\\{nxt}' in string literal.",
                )
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[Tok]:
    """Split ``text`` into tokens; an unknown character is ``MALFORMED_QUERY`` at its position."""
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise located_error(text, pos, "MALFORMED_QUERY", f"unexpected token: '{text[pos]}'")
        kind = m.lastgroup or ""
        raw = m.group()
        if kind != "ws":
            value: Any = None
            if kind == "string":
                if len(raw) - 2 > MAX_LITERAL_LENGTH:
                    raise located_error(
                        text, pos, "MALFORMED_QUERY", "String literal value too long"
                    )
                value = _unescape(text, raw[1:-1], pos + 1)
            toks.append(Tok(kind, raw, pos, value))
        pos = m.end()
    toks.append(Tok("eof", "", len(text)))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def fail(self, tok: Tok | None = None, message: str | None = None) -> SfError:
        t = tok or self.tok
        shown = t.text if t.kind != "eof" else "<EOF>"
        return located_error(
            self.text, t.pos, "MALFORMED_QUERY", message or f"unexpected token: '{shown}'"
        )

    def take(self) -> Tok:
        t = self.tok
        self.i += 1
        return t

    def expect_kw(self, *words: str) -> Tok:
        if not self.tok.kw(*words):
            raise self.fail()
        return self.take()

    def expect(self, text: str) -> Tok:
        if self.tok.text != text:
            raise self.fail()
        return self.take()

    def path(self) -> FieldPath:
        t = self.tok
        if t.kind != "ident" or t.text.lower() in _RESERVED:
            raise self.fail()
        parts = [self.take().text]
        while self.tok.text == ".":
            self.take()
            if self.tok.kind != "ident":
                raise self.fail()
            parts.append(self.take().text)
        return FieldPath(tuple(parts), t.pos)

    def query(self) -> Query:
        self.expect_kw("select")
        fields: list[FieldPath] = []
        count = False
        if self.tok.kw("count") and self.toks[self.i + 1].text == "(":
            self.take()
            self.expect("(")
            self.expect(")")
            count = True
        else:
            fields.append(self.path())
            while self.tok.text == ",":
                self.take()
                if self.tok.text == "(":
                    raise self.fail(
                        message="Subqueries are not supported by the sandbox's SOQL subset"
                    )
                fields.append(self.path())
        self.expect_kw("from")
        obj = self.tok
        if obj.kind != "ident" or obj.text.lower() in _RESERVED:
            raise self.fail()
        self.take()
        q = Query(self.text, obj.text, obj.pos, fields, count)
        if self.tok.kw("where"):
            self.take()
            q.where = self.condition()
        if self.tok.kw("order"):
            self.take()
            self.expect_kw("by")
            q.order.append(self.order_item())
            while self.tok.text == ",":
                self.take()
                q.order.append(self.order_item())
        if self.tok.kw("limit"):
            self.take()
            q.limit = self.integer()
        if self.tok.kw("offset"):
            self.take()
            q.offset = self.integer()
        if self.tok.kind != "eof":
            raise self.fail()
        return q

    def integer(self) -> int:
        t = self.tok
        if t.kind != "number" or not t.text.isdigit():
            raise self.fail()
        self.take()
        return int(t.text)

    def order_item(self) -> OrderItem:
        p = self.path()
        desc = False
        if self.tok.kw("asc", "desc"):
            desc = self.take().text.lower() == "desc"
        nulls_last = desc
        if self.tok.kw("nulls"):
            self.take()
            nulls_last = self.expect_kw("first", "last").text.lower() == "last"
        return OrderItem(p, desc, nulls_last)

    def condition(self) -> Condition:
        first = self.unary()
        items = [first]
        op: str | None = None
        while self.tok.kw("and", "or"):
            word = self.tok.text.lower()
            if op is not None and word != op:
                raise self.fail()  # SOQL: mixing AND and OR needs parentheses
            op = word
            self.take()
            items.append(self.unary())
        return first if op is None else BoolOp(op, tuple(items))

    def unary(self) -> Condition:
        if self.tok.kw("not"):
            self.take()
            return Not(self.unary())
        if self.tok.text == "(":
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        p = self.path()
        t = self.tok
        if t.kind == "op":
            self.take()
            op = "!=" if t.text == "<>" else t.text
            return Compare(p, op, self.literal())
        if t.kw("not"):
            self.take()
            self.expect_kw("in")
            return Compare(p, "not in", self.literal_list())
        if t.kw("in", "includes", "excludes"):
            self.take()
            return Compare(p, t.text.lower(), self.literal_list())
        if t.kw("like"):
            self.take()
            value = self.literal()
            if value.kind != "string":
                raise self.fail(self.toks[self.i - 1])
            return Compare(p, "like", value)
        raise self.fail()

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect("(")
        if self.tok.kw("select"):
            raise self.fail(
                message="Semi-join subqueries are not supported by the sandbox's SOQL subset"
            )
        items = [self.literal()]
        while self.tok.text == ",":
            self.take()
            items.append(self.literal())
        self.expect(")")
        return tuple(items)

    def literal(self) -> Literal:
        t = self.take()
        if t.kind == "string":
            return Literal("string", t.value, t.pos, t.text)
        if t.kind == "number":
            return Literal("number", float(t.text) if "." in t.text else int(t.text), t.pos, t.text)
        if t.kind in ("date", "datetime"):
            return Literal(t.kind, t.text, t.pos, t.text)
        if t.kind == "ident":
            word = t.text.lower()
            if word in ("true", "false"):
                return Literal("bool", word == "true", t.pos, t.text)
            if word == "null":
                return Literal("null", None, t.pos, t.text)
            n: int | None = None
            if self.tok.text == ":":
                self.take()
                n = self.integer()
            return Literal("dateliteral", (t.text.upper(), n), t.pos, t.text)
        raise self.fail(t)


def parse(text: str) -> Query:
    """Parse one SOQL statement or raise ``MALFORMED_QUERY`` in the real shape."""
    if len(text) > MAX_QUERY_LENGTH:
        raise SfError(
            "MALFORMED_QUERY", f"SOQL statements cannot exceed {MAX_QUERY_LENGTH} characters"
        )
    if not text.strip():
        raise SfError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    return _Parser(text).query()
