"""Precedence-climbing parser from rule text to :mod:`crm_sync.rules.expr.ast` nodes.

The parser is the safety boundary ("no rule can run code"): it accepts only the grammar below and
names every refused Python construct in its message, so an admin who tries ``x.__class__`` or
``f(a=1)`` learns why instead of seeing a generic error.

Precedence, loosest first: ``or`` < ``and`` < ``not`` < comparisons / ``in`` / ``is`` (not
chainable) < ``+ -`` < ``* /`` < unary ``-`` < calls, ``entity.field`` and parentheses.
"""

from __future__ import annotations

from crm_sync.errors import ExprSyntaxError, Position
from crm_sync.rules.expr.ast import (
    ArithOp,
    Binary,
    BoolOp,
    Call,
    CompareOp,
    Comparison,
    Expr,
    InList,
    IsNull,
    Literal,
    Name,
    Negate,
    Not,
)
from crm_sync.rules.expr.lexer import KEYWORDS, MAX_LENGTH, Kind, Token, describe, shift, tokenize
from crm_sync.rules.expr.walk import first_deeper_than

__all__ = ["MAX_DEPTH", "parse"]

MAX_DEPTH = 50
"""Deepest nesting accepted, both while parsing and in the resulting tree.

Bounding the tree (not only the parser's recursion) keeps every later recursive walk (check,
compile, evaluate, unparse) far from Python's recursion limit; ``a + a + ... + a`` nests too.
"""

_ATTRIBUTE = "attribute access is not allowed; only <entity>.<field> references a related record"
_OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG = 1, 2, 3, 4, 5, 6, 7
_BINARY: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    "==": _CMP,
    "!=": _CMP,
    "<": _CMP,
    "<=": _CMP,
    ">": _CMP,
    ">=": _CMP,
    "in": _CMP,
    "is": _CMP,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
}
_COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.tokens[self.i]
        if token.kind is not Kind.EOF:
            self.i += 1
        return token

    def at(self, *texts: str) -> bool:
        return self.tok.kind in (Kind.OP, Kind.KEYWORD) and self.tok.text in texts

    def fail(self, message: str, token: Token | None = None) -> ExprSyntaxError:
        token = token or self.tok
        if token.kind is Kind.ERROR:
            # A refused construct explains itself better than "expected X".
            return ExprSyntaxError(token.text, token.pos)
        return ExprSyntaxError(message, token.pos)

    def expect(self, text: str, context: str) -> Token:
        if not self.at(text):
            raise self.fail(f"expected '{text}' {context}, found {describe(self.tok)}")
        return self.next()

    # -- grammar -------------------------------------------------------------------------------

    def parse_all(self) -> Expr:
        expr = self.expr(0, None)
        if self.tok.kind is not Kind.EOF:
            raise self.fail(self.trailing_message())
        return expr

    def trailing_message(self) -> str:
        tok = self.tok
        if tok.kind is Kind.NAME and tok.text.lower() in KEYWORDS:
            return f"keywords are lower-case: write {tok.text.lower()} instead of {tok.text}"
        if self.at(")"):
            return "unmatched ')'"
        if self.at("]"):
            return "unmatched ']'"
        return f"expected an operator (and, or, ==, +, ...) or end of expression, found {describe(tok)}"

    def expr(self, min_prec: int, after: Token | None) -> Expr:
        """Parse an expression whose binary operators bind at least as tightly as ``min_prec``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            left = self.prefix(min_prec, after)
            while True:
                tok = self.tok
                if tok.kind is Kind.KEYWORD and tok.text == "not" and self.peek().text == "in":
                    prec = _CMP
                elif tok.kind in (Kind.OP, Kind.KEYWORD) and tok.text in _BINARY:
                    prec = _BINARY[tok.text]
                else:
                    break
                if prec < min_prec:
                    break
                if prec == _CMP:
                    left = self.comparison(left)
                    if self.at(*_COMPARE_OPS, "in", "is") or (
                        self.at("not") and self.peek().text == "in"
                    ):
                        raise self.fail(
                            "chained comparisons like a < b < c are not allowed; write a < b and b < c"
                        )
                elif prec in (_OR, _AND):
                    left = self.boolop(left, prec)
                else:
                    op = self.next()
                    right = self.expr(prec + 1, op)
                    arith: ArithOp = op.text  # type: ignore[assignment]
                    left = Binary(arith, left, right, op.pos)
            return left
        finally:
            self.depth -= 1

    def boolop(self, first: Expr, prec: int) -> Expr:
        word = self.tok.text
        operands = [first]
        pos = self.tok.pos
        while self.at(word):
            op = self.next()
            operands.append(self.expr(prec + 1, op))
        return BoolOp("and" if word == "and" else "or", tuple(operands), pos)

    def comparison(self, left: Expr) -> Expr:
        op = self.next()
        if op.text == "is":
            negated = False
            if self.at("not"):
                self.next()
                negated = True
            if not self.at("null"):
                raise self.fail(
                    f"expected null after '{'is not' if negated else 'is'}', found {describe(self.tok)}"
                )
            self.next()
            return IsNull(left, negated, op.pos)
        if op.text in ("in", "not"):
            negated = op.text == "not"
            if negated:
                self.next()  # the "in" of "not in"
            return InList(left, self.value_list("in"), negated, op.pos)
        right = self.expr(_CMP + 1, op)
        compare: CompareOp = op.text  # type: ignore[assignment]
        return Comparison(compare, left, right, op.pos)

    def value_list(self, context: str) -> tuple[Literal, ...]:
        if not self.at("["):
            raise self.fail(
                f'expected a list of values like ["A", "B"] after \'{context}\', found {describe(self.tok)}'
            )
        self.next()
        values: list[Literal] = []
        while not self.at("]"):
            start = self.tok
            item = self.expr(_OR, self.tokens[self.i - 1])
            if self.tok.kind is Kind.ERROR:
                raise self.fail("")
            literal = _as_literal(item)
            if literal is None:
                raise self.fail(
                    "only literal values (numbers, strings, true/false) are allowed in a list",
                    start,
                )
            if literal.value is None:
                raise self.fail(
                    "null cannot be in a list; test for missing values with 'x is null'", start
                )
            values.append(literal)
            if self.at(","):
                self.next()
            elif not self.at("]"):
                raise self.fail(f"expected ',' or ']' in the list, found {describe(self.tok)}")
        if not values:
            raise self.fail("an empty list never matches; give at least one value")
        self.next()
        return tuple(values)

    def prefix(self, min_prec: int, after: Token | None) -> Expr:
        tok = self.tok
        if tok.kind is Kind.KEYWORD and tok.text == "not" and self.peek().text != "in":
            if min_prec > _NOT:
                where = describe(after) if after else "this operator"
                raise self.fail(f"'not' cannot follow {where} directly; write (not ...)")
            self.next()
            return Not(self.expr(_NOT, tok), tok.pos)
        if tok.kind is Kind.OP and tok.text == "-":
            self.next()
            return Negate(self.expr(_NEG, tok), tok.pos)
        return self.postfix(self.primary(after))

    def primary(self, after: Token | None) -> Expr:
        tok = self.tok
        if tok.kind is Kind.NUMBER:
            self.next()
            assert isinstance(tok.value, int | float)
            return Literal(tok.value, tok.pos)
        if tok.kind is Kind.STRING:
            self.next()
            return Literal(tok.value, tok.pos)
        if tok.kind is Kind.KEYWORD and tok.text in ("true", "false", "null"):
            self.next()
            return Literal({"true": True, "false": False, "null": None}[tok.text], tok.pos)
        if tok.kind is Kind.NAME:
            return self.name()
        if self.at("("):
            self.next()
            inner = self.expr(0, tok)
            self.expect(")", f"to close the '(' at {tok.pos.line}:{tok.pos.col}")
            return inner
        if self.at("["):
            self.value_list_anywhere()
        where = f"after {describe(after)}" if after else "at the start of the expression"
        raise self.fail(f"expected an operand {where}, found {describe(tok)}")

    def value_list_anywhere(self) -> None:
        """A list outside ``in [...]``: parse it first so a comprehension inside gets its message."""
        tok = self.tok
        self.value_list("in")
        raise ExprSyntaxError("a list [...] is only allowed after 'in' or 'not in'", tok.pos)

    def name(self) -> Expr:
        tok = self.next()
        if self.at("("):
            return self.call(tok)
        if self.at("."):
            dot = self.next()
            field = self.tok
            if field.kind is not Kind.NAME:
                if field.kind is Kind.ERROR and field.text.startswith("names starting with '__'"):
                    raise ExprSyntaxError(_ATTRIBUTE, dot.pos)
                raise self.fail(
                    f"expected a field name after '{tok.text}.', found {describe(field)}"
                )
            self.next()
            if self.at("("):
                raise ExprSyntaxError(_ATTRIBUTE + " (no method calls)", dot.pos)
            return Name(field.text, tok.pos, scope=tok.text)
        return Name(tok.text, tok.pos)

    def call(self, func: Token) -> Expr:
        self.next()
        args: list[Expr] = []
        while not self.at(")"):
            if (
                self.tok.kind is Kind.NAME
                and self.peek().kind is Kind.ERROR
                and self.peek().text.startswith("'='")
            ):
                raise ExprSyntaxError(
                    "keyword arguments (name=value) are not allowed; pass arguments by position",
                    self.peek().pos,
                )
            args.append(self.expr(_OR, self.tokens[self.i - 1]))
            if self.at(","):
                self.next()
            elif not self.at(")"):
                raise self.fail(
                    f"expected ',' or ')' in the arguments of {func.text}(...), found {describe(self.tok)}"
                )
        self.next()
        return Call(func.text, tuple(args), func.pos)

    def postfix(self, expr: Expr) -> Expr:
        if self.at("."):
            raise ExprSyntaxError(_ATTRIBUTE, self.tok.pos)
        if self.at("["):
            raise ExprSyntaxError("subscripts like x[0] are not allowed", self.tok.pos)
        if self.at("("):
            raise ExprSyntaxError(
                "only named functions can be called, e.g. least(a, b)", self.tok.pos
            )
        return expr


def _as_literal(expr: Expr) -> Literal | None:
    """List items are literals; ``-3`` is folded so lists can hold negative numbers."""
    if isinstance(expr, Literal):
        return expr
    if (
        isinstance(expr, Negate)
        and isinstance(expr.operand, Literal)
        and isinstance(expr.operand.value, int | float)
        and not isinstance(expr.operand.value, bool)
    ):
        return Literal(-expr.operand.value, expr.pos)
    return None


def parse(text: str, *, origin: Position | None = None) -> Expr:
    """Parse rule text into the syntax tree; every failure is an :class:`ExprSyntaxError`.

    ``origin`` is where the text starts in its file (a YAML scalar), so positions in the tree and
    in errors point at the admin's file.
    """
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(
            f"expression is too long ({len(text)} characters, at most {MAX_LENGTH}); "
            "split it into derived metrics",
            shift(1, 1, origin),
        )
    tokens = tokenize(text, origin)
    if tokens[0].kind is Kind.EOF:
        raise ExprSyntaxError(
            'empty expression: write a condition such as tier == "A"', tokens[0].pos
        )
    expr = _Parser(tokens).parse_all()
    deep = first_deeper_than(expr, MAX_DEPTH)
    if deep is not None:
        raise ExprSyntaxError(
            f"expression is nested too deeply (more than {MAX_DEPTH} levels); split it into derived metrics",
            deep.pos,
        )
    return expr
