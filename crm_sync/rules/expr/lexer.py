"""Tokenizer for the rule language.

Hand-written rather than regex-driven so every position is exact and every character outside the
language gets a message that says what to write instead. Constructs the language refuses (Python
keywords, ``**``, ``=`` ...) become ``ERROR`` tokens instead of raising at once: the parser raises
when it reaches one, so the leftmost problem is always the one reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from crm_sync.errors import Position

__all__ = ["KEYWORDS", "MAX_LENGTH", "Kind", "Token", "describe", "shift", "tokenize"]

MAX_LENGTH = 4000
"""Longest expression accepted; a rule an admin reads aloud is far shorter."""

KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})

_INT64_MAX = 2**63 - 1


class Kind(Enum):
    """Token classes; operators and keywords carry their text in ``Token.text``."""

    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    KEYWORD = "keyword"
    OP = "operator"
    ERROR = "error"
    EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    """One token; ``value`` is the decoded literal, ``text`` the source (or an error message)."""

    kind: Kind
    text: str
    pos: Position
    value: str | int | float | None = None


_PY_WORDS: dict[str, str] = {
    "import": "'import' is not allowed: a rule cannot load code",
    "from": "'from' is not allowed: a rule cannot load code",
    "lambda": "'lambda' is not allowed: a rule cannot define functions",
    "for": "comprehensions and loops ('for') are not allowed; a rule is one condition over one record",
    "if": "conditional expressions ('if ... else') are not allowed; write separate rules, or combine conditions with and/or",
    "else": "conditional expressions ('if ... else') are not allowed; write separate rules, or combine conditions with and/or",
    "None": "'None' is Python; the rule language writes null",
    "True": "'True' is Python; the rule language writes true",
    "False": "'False' is Python; the rule language writes false",
}
_PY_KEYWORDS = frozenset(
    [
        "as",
        "assert",
        "async",
        "await",
        "break",
        "class",
        "continue",
        "def",
        "del",
        "elif",
        "except",
        "finally",
        "global",
        "nonlocal",
        "pass",
        "raise",
        "return",
        "try",
        "while",
        "with",
        "yield",
    ]
)
_STRING_PREFIXES = frozenset({"f", "b", "r", "u", "rb", "br", "fr", "rf"})

# Longest first so "**" wins over "*" and "<=" over "<".
_BAD_OPS: list[tuple[str, str]] = [
    (":=", "assignment (':=') is not allowed; a rule only reads values"),
    ("**", "the power operator '**' is not allowed"),
    ("//", "floor division '//' is not allowed; use '/' (and round() if needed)"),
    ("&&", "'&&' is not allowed; write and"),
    ("||", "'||' is not allowed; write or"),
    ("%", "'%' (modulo) is not allowed"),
    ("@", "'@' is not allowed"),
    (";", "';' is not allowed: a rule is a single expression"),
    (":", "':' is not allowed (no dictionaries, slices or annotations in rules)"),
    ("{", "braces are not allowed (no sets or dictionaries in rules); lists use [ ]"),
    ("}", "braces are not allowed (no sets or dictionaries in rules); lists use [ ]"),
    ("&", "'&' is not allowed; write and"),
    ("|", "'|' is not allowed; write or"),
    ("~", "'~' is not allowed; write not"),
    ("^", "'^' is not allowed"),
    ("#", "comments ('#') are not allowed inside an expression; put them in the YAML file"),
    ("`", "backticks are not allowed; quote strings with \" or '"),
]
_OPS = ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", "."]
_ESCAPES = {'"': '"', "'": "'", "\\": "\\"}


def shift(line: int, col: int, origin: Position | None) -> Position:
    """Map a position inside the expression to the file, the same way ``ExprError.shifted`` does."""
    if origin is None:
        return Position(line, col)
    if line == 1:
        return Position(origin.line, origin.col + col - 1, origin.file)
    return Position(origin.line + line - 1, col, origin.file)


def describe(token: Token) -> str:
    """How a token reads in "found ..." messages."""
    if token.kind is Kind.EOF:
        return "end of expression"
    if token.kind is Kind.NAME:
        return f"name '{token.text}'"
    if token.kind is Kind.NUMBER:
        return f"number {token.text}"
    if token.kind is Kind.STRING:
        return f"string {token.text}"
    return f"'{token.text}'"


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or ("0" <= ch <= "9")


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


class _Lexer:
    def __init__(self, text: str, origin: Position | None) -> None:
        self.text = text
        self.origin = origin
        self.i = 0
        self.line = 1
        self.col = 1
        self.tokens: list[Token] = []

    def pos(self) -> Position:
        return shift(self.line, self.col, self.origin)

    def advance(self, n: int) -> None:
        for _ in range(n):
            ch = self.text[self.i]
            self.i += 1
            if ch == "\n" or (ch == "\r" and not self.text.startswith("\n", self.i)):
                self.line += 1
                self.col = 1
            elif ch != "\r":
                self.col += 1

    def emit(
        self, kind: Kind, text: str, length: int, value: str | int | float | None = None
    ) -> None:
        self.tokens.append(Token(kind, text, self.pos(), value))
        self.advance(length)

    def error(self, message: str, length: int) -> None:
        self.emit(Kind.ERROR, message, max(length, 1))

    def run(self) -> list[Token]:
        text = self.text
        while self.i < len(text):
            ch = text[self.i]
            if ch in " \t\r\n":
                self.advance(1)
            elif _is_digit(ch) or (
                ch == "." and self.i + 1 < len(text) and _is_digit(text[self.i + 1])
            ):
                self.number()
            elif _is_name_start(ch):
                self.name()
            elif ch in "\"'":
                self.string(ch)
            else:
                self.operator(ch)
        self.tokens.append(Token(Kind.EOF, "", self.pos()))
        return self.tokens

    def number(self) -> None:
        text, start = self.text, self.i
        j = start
        while j < len(text) and _is_digit(text[j]):
            j += 1
        is_float = False
        if j + 1 < len(text) and text[j] == "." and _is_digit(text[j + 1]):
            is_float = True
            j += 1
            while j < len(text) and _is_digit(text[j]):
                j += 1
        if j < len(text) and text[j] in "eE":
            k = j + 1
            if k < len(text) and text[k] in "+-":
                k += 1
            if k < len(text) and _is_digit(text[k]):
                is_float = True
                j = k
                while j < len(text) and _is_digit(text[j]):
                    j += 1
        literal = text[start:j]
        if j < len(text) and _is_name_char(text[j]):
            self.error(
                f"malformed number '{literal}{text[j]}...'; write plain decimals like 1500 or 0.25",
                j - start,
            )
            return
        value: int | float
        if is_float:
            value = float(literal)
            if value in (float("inf"), float("-inf")):
                self.error(f"number {literal} is too large", len(literal))
                return
        else:
            if len(literal) > 19 or int(literal) > _INT64_MAX:
                self.error(f"number {literal} is too large", len(literal))
                return
            value = int(literal)
        self.emit(Kind.NUMBER, literal, len(literal), value)

    def name(self) -> None:
        text, start = self.text, self.i
        j = start
        while j < len(text) and _is_name_char(text[j]):
            j += 1
        word = text[start:j]
        if j < len(text) and text[j] in "\"'" and word.lower() in _STRING_PREFIXES:
            self.error(
                f'string prefixes like {word}"..." (f-strings, bytes, raw strings) are not allowed; write a plain quoted string',
                len(word),
            )
        elif word.startswith("__"):
            self.error(f"names starting with '__' are not allowed ('{word}')", len(word))
        elif word in _PY_WORDS:
            self.error(_PY_WORDS[word], len(word))
        elif word in _PY_KEYWORDS:
            self.error(f"'{word}' is a Python keyword and not part of the rule language", len(word))
        elif word in KEYWORDS:
            self.emit(Kind.KEYWORD, word, len(word))
        else:
            self.emit(Kind.NAME, word, len(word))

    def string(self, quote: str) -> None:
        text, start = self.text, self.i
        j = start + 1
        chars: list[str] = []
        while True:
            if j >= len(text) or text[j] in "\r\n":
                self.error("unterminated string: add the closing quote on the same line", j - start)
                return
            ch = text[j]
            if ch == quote:
                break
            if ch == "\\":
                nxt = text[j + 1] if j + 1 < len(text) else ""
                if nxt not in _ESCAPES:
                    # Point at the backslash itself, not at the string's start.
                    self.advance(j - start)
                    self.error("unknown escape in string; only \\\" \\' and \\\\ are allowed", 1)
                    return
                chars.append(_ESCAPES[nxt])
                j += 2
                continue
            chars.append(ch)
            j += 1
        self.emit(Kind.STRING, text[start : j + 1], j + 1 - start, "".join(chars))

    def operator(self, ch: str) -> None:
        text = self.text
        for bad, message in _BAD_OPS:
            if text.startswith(bad, self.i):
                self.error(message, len(bad))
                return
        for op in _OPS:
            if text.startswith(op, self.i):
                self.emit(Kind.OP, op, len(op))
                return
        if ch == "=":
            self.error("'=' is assignment, which is not allowed; use '==' to compare", 1)
        elif ch == "!":
            self.error("'!' is not allowed; write not, or '!=' for 'is different from'", 1)
        elif ch.isprintable() and ch.isascii():
            self.error(f"unexpected character '{ch}'", 1)
        else:
            self.error(f"unexpected character {ch!r} (U+{ord(ch):04X})", 1)


def tokenize(text: str, origin: Position | None = None) -> list[Token]:
    """Split ``text`` into tokens ending with ``EOF``; never raises (problems are ERROR tokens)."""
    return _Lexer(text, origin).run()
