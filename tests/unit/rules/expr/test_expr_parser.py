"""Parser: the accepted grammar, precise error positions, and every refused construct."""

from __future__ import annotations

import pytest

from crm_sync.errors import ExprSyntaxError, Position
from crm_sync.rules.expr import parse, unparse
from crm_sync.rules.expr.ast import (
    Binary,
    BoolOp,
    Call,
    Comparison,
    InList,
    IsNull,
    Literal,
    Name,
    Negate,
    Not,
)

P = Position


def syntax_error(text: str) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    return info.value


# -- accepted grammar -----------------------------------------------------------------------


def test_literals_of_every_kind() -> None:
    """Ints, floats, both quote styles with escapes, true/false/null parse to Literal values."""
    assert parse("42") == Literal(42, P(1, 1))
    assert parse("0.25") == Literal(0.25, P(1, 1))
    assert parse(".5") == Literal(0.5, P(1, 1))
    assert parse("1e3") == Literal(1000.0, P(1, 1))
    assert parse('"a\\"b"') == Literal('a"b', P(1, 1))
    assert parse("'it\\'s'") == Literal("it's", P(1, 1))
    assert parse("'back\\\\slash'") == Literal("back\\slash", P(1, 1))
    assert parse("true") == Literal(True, P(1, 1))
    assert parse("false") == Literal(False, P(1, 1))
    assert parse("null") == Literal(None, P(1, 1))


def test_names_and_qualified_names() -> None:
    """A bare name has no scope; entity.field sets the scope and keeps the entity's position."""
    assert parse("tier") == Name("tier", P(1, 1))
    assert parse("company.abc_class") == Name("abc_class", P(1, 1), scope="company")


def test_call_with_positional_arguments() -> None:
    """Calls keep their arguments in order; an empty call and a trailing comma are accepted."""
    assert parse('attended("FAIR2025")') == Call(
        "attended", (Literal("FAIR2025", P(1, 10)),), P(1, 1)
    )
    assert parse("f()") == Call("f", (), P(1, 1))
    assert parse("f(a, b,)") == Call("f", (Name("a", P(1, 3)), Name("b", P(1, 6))), P(1, 1))


def test_arithmetic_precedence_and_left_associativity() -> None:
    """* and / bind tighter than + and -, and each level is left-associative."""
    expr = parse("a - b - c * d / e")
    assert unparse(expr) == "a - b - c * d / e"
    assert isinstance(expr, Binary)
    assert expr.op == "-"
    assert isinstance(expr.left, Binary)
    assert expr.left.op == "-"
    assert isinstance(expr.right, Binary)
    assert expr.right.op == "/"


def test_unary_minus_binds_tighter_than_multiplication() -> None:
    """-a * b is (-a) * b, and a list item -3 is folded into a negative literal."""
    expr = parse("-a * b")
    assert isinstance(expr, Binary)
    assert isinstance(expr.left, Negate)
    in_list = parse("x in [-3, 2.5]")
    assert isinstance(in_list, InList)
    assert [v.value for v in in_list.values] == [-3, 2.5]


def test_boolean_precedence_not_and_or() -> None:
    """not binds tighter than and, and tighter than or; chains flatten into one BoolOp."""
    expr = parse("not a and b or c and d or e")
    assert isinstance(expr, BoolOp)
    assert expr.op == "or"
    assert len(expr.operands) == 3
    first = expr.operands[0]
    assert isinstance(first, BoolOp)
    assert first.op == "and"
    assert isinstance(first.operands[0], Not)


def test_not_applies_to_a_whole_comparison() -> None:
    """not a == b negates the comparison, as an admin reads it aloud."""
    expr = parse("not a == b")
    assert isinstance(expr, Not)
    assert isinstance(expr.operand, Comparison)


def test_parenthesised_bool_ops_stay_nested() -> None:
    """Explicit parentheses are kept as a nested BoolOp (only chains are flattened)."""
    expr = parse("a and (b and c)")
    assert isinstance(expr, BoolOp)
    assert len(expr.operands) == 2
    assert unparse(expr) == "a and (b and c)"


def test_membership_and_null_tests() -> None:
    """in / not in take literal lists; is null / is not null take no operand."""
    assert parse('x in ["A", "B"]') == InList(
        Name("x", P(1, 1)), (Literal("A", P(1, 7)), Literal("B", P(1, 12))), False, P(1, 3)
    )
    negated = parse("x not in [1]")
    assert isinstance(negated, InList)
    assert negated.negated
    assert parse("x is null") == IsNull(Name("x", P(1, 1)), False, P(1, 3))
    assert parse("x is not null") == IsNull(Name("x", P(1, 1)), True, P(1, 3))


def test_comparison_operands_are_arithmetic() -> None:
    """a + 1 < b * 2 compares two arithmetic expressions."""
    expr = parse("a + 1 < b * 2")
    assert isinstance(expr, Comparison)
    assert expr.op == "<"
    assert isinstance(expr.left, Binary)
    assert isinstance(expr.right, Binary)


def test_multi_line_positions() -> None:
    """Positions count lines (\\n, \\r\\n) and columns from 1, as in a YAML block scalar."""
    expr = parse('tier == "A"\r\n  and visits > 3')
    assert isinstance(expr, BoolOp)
    assert expr.pos == P(2, 3)
    assert expr.operands[1].pos == P(2, 14)


def test_origin_shifts_node_positions_into_the_file() -> None:
    """With an origin, line 1 is offset by the origin column and later lines by its line."""
    expr = parse("a and\nb", origin=P(10, 7, "rules.yaml"))
    assert isinstance(expr, BoolOp)
    assert expr.operands[0].pos == P(10, 7, "rules.yaml")
    assert expr.operands[1].pos == P(11, 1, "rules.yaml")


def test_origin_shifts_error_positions_into_the_file() -> None:
    """Syntax errors point at the admin's file, not at the substring."""
    with pytest.raises(ExprSyntaxError) as info:
        parse("a and", origin=P(4, 12, "segments.yaml"))
    assert info.value.position == P(4, 17, "segments.yaml")
    assert str(info.value).startswith("segments.yaml:4:17:")


# -- error messages and positions ---------------------------------------------------------------


def test_missing_operand_after_and() -> None:
    """A dangling and says what was expected and points just past the text."""
    err = syntax_error("tier == 'A' and")
    assert err.message == "expected an operand after 'and', found end of expression"
    assert err.position == P(1, 16)


def test_missing_operand_on_a_later_line() -> None:
    """The position of a multi-line error is on the right line and column."""
    err = syntax_error("a > 1 and\n  b <")
    assert err.message == "expected an operand after '<', found end of expression"
    assert err.position == P(2, 6)


def test_unclosed_parenthesis() -> None:
    """A missing ')' names where the '(' was opened."""
    err = syntax_error("(a and b")
    assert err.message == "expected ')' to close the '(' at 1:1, found end of expression"
    assert err.position == P(1, 9)


def test_unmatched_closing_parenthesis() -> None:
    """A stray ')' is reported at its own position."""
    err = syntax_error("a and b)")
    assert err.message == "unmatched ')'"
    assert err.position == P(1, 8)


def test_two_operands_without_operator() -> None:
    """Juxtaposed operands ask for an operator."""
    err = syntax_error("a b")
    assert err.message.startswith("expected an operator")
    assert "found name 'b'" in err.message
    assert err.position == P(1, 3)


def test_empty_expression() -> None:
    """An empty or blank rule is a syntax error, not an always-true rule."""
    assert syntax_error("   ").message.startswith("empty expression")


def test_upper_case_keyword_gets_a_hint() -> None:
    """Keywords are case-sensitive lower-case and the message says so."""
    err = syntax_error("a AND b")
    assert err.message == "keywords are lower-case: write and instead of AND"
    assert err.position == P(1, 3)


def test_unterminated_string() -> None:
    """A string without its closing quote points at the opening quote."""
    err = syntax_error('tier == "A')
    assert err.message.startswith("unterminated string")
    assert err.position == P(1, 9)


def test_string_cannot_span_lines() -> None:
    """A newline inside a string is a missing closing quote."""
    assert syntax_error('"a\nb"').message.startswith("unterminated string")


def test_unknown_escape_points_at_the_backslash() -> None:
    """Only \\" \\' \\\\ escapes exist; another escape is reported at its backslash."""
    err = syntax_error('x == "a\\nb"')
    assert err.message.startswith("unknown escape")
    assert err.position == P(1, 8)


def test_is_requires_null() -> None:
    """is only tests for null."""
    assert syntax_error("a is 3").message == "expected null after 'is', found number 3"
    assert syntax_error("a is not 3").message == "expected null after 'is not', found number 3"


def test_in_requires_a_list() -> None:
    """in takes a bracketed list of literals."""
    assert syntax_error("a in b").message.startswith("expected a list of values")
    assert syntax_error("a in [b]").message.startswith("only literal values")
    assert syntax_error("a in [null]").message.startswith("null cannot be in a list")
    assert syntax_error("a in []").message.startswith("an empty list never matches")
    assert syntax_error("a in [1 2]").message == "expected ',' or ']' in the list, found number 2"


def test_list_outside_in() -> None:
    """A bare list is only meaningful after in."""
    assert syntax_error("[1, 2]").message == "a list [...] is only allowed after 'in' or 'not in'"


def test_not_after_comparison_operator() -> None:
    """a == not b needs parentheses, as in Python."""
    assert (
        syntax_error("a == not b").message == "'not' cannot follow '==' directly; write (not ...)"
    )


def test_chained_comparison() -> None:
    """a < b < c is ambiguous to admins and rejected with the rewrite."""
    err = syntax_error("a < b < c")
    assert (
        err.message == "chained comparisons like a < b < c are not allowed; write a < b and b < c"
    )
    assert err.position == P(1, 7)
    assert syntax_error("a == b is null").message.startswith("chained comparisons")
    assert syntax_error("a in [1] not in [2]").message.startswith("chained comparisons")


def test_malformed_number() -> None:
    """1abc and 1e are not numbers."""
    assert syntax_error("1abc").message.startswith("malformed number")
    assert syntax_error("x > 1e").message.startswith("malformed number")


def test_number_too_large() -> None:
    """Numbers must fit a 64-bit integer or a finite float."""
    assert syntax_error("99999999999999999999").message.startswith(
        "number 99999999999999999999 is too large"
    )
    assert syntax_error("1e999").message.startswith("number 1e999 is too large")


def test_too_long() -> None:
    """Expressions over 4,000 characters are refused before tokenizing."""
    err = syntax_error("a or " * 800 + "a")
    assert err.message.startswith("expression is too long (4001 characters, at most 4000)")
    assert err.position == P(1, 1)


def test_too_deep_parentheses() -> None:
    """More than 50 nested parentheses are refused at the 51st."""
    parse("(" * 49 + "a" + ")" * 49)
    err = syntax_error("(" * 60 + "a" + ")" * 60)
    assert err.message.startswith("expression is nested too deeply")
    assert err.position == P(1, 51)


def test_too_deep_tree_from_a_long_sum() -> None:
    """A long left-nested sum is refused too, so later tree walks never hit the recursion limit."""
    err = syntax_error("+".join(["a"] * 80))
    assert err.message.startswith("expression is nested too deeply")


def test_deep_unary_chains() -> None:
    """Long chains of not / - are bounded like parentheses."""
    assert syntax_error("not " * 900 + "a").message.startswith("expression is nested too deeply")
    assert syntax_error("-" * 3000 + "a").message.startswith("expression is nested too deeply")


# -- "no rule can run code": every refused construct -------------------------------------------

ATTRIBUTE = "attribute access is not allowed; only <entity>.<field> references a related record"


@pytest.mark.parametrize(
    ("text", "col"),
    [
        ("a.b.c", 4),
        ("x.__class__", 2),
        ("(a).b", 4),
        ("f().x", 4),
        ('"s".upper', 4),
        ("company.x.y", 10),
    ],
)
def test_attribute_access_is_rejected(text: str, col: int) -> None:
    """Only one level of entity.field; any other dotted access is refused at the dot."""
    err = syntax_error(text)
    assert err.message == ATTRIBUTE
    assert err.position == P(1, col)


def test_method_call_is_rejected() -> None:
    """company.name() is attribute access followed by a call."""
    assert syntax_error("company.name()").message.startswith(ATTRIBUTE)


def test_dunder_name_is_rejected() -> None:
    """Names starting with __ never reach the checker."""
    err = syntax_error("__import__('os')")
    assert err.message == "names starting with '__' are not allowed ('__import__')"
    assert err.position == P(1, 1)


def test_import_is_rejected() -> None:
    """import cannot load code."""
    assert syntax_error("import os").message == "'import' is not allowed: a rule cannot load code"


def test_from_is_rejected() -> None:
    """from ... import cannot load code."""
    assert (
        syntax_error("from os import path").message
        == "'from' is not allowed: a rule cannot load code"
    )


def test_lambda_is_rejected() -> None:
    """lambda cannot define functions (the ':' after it is never reached)."""
    err = syntax_error("lambda: 1")
    assert err.message == "'lambda' is not allowed: a rule cannot define functions"


def test_list_comprehension_is_rejected() -> None:
    """for inside brackets is a comprehension, named as such."""
    err = syntax_error("x in [y for y in z]")
    assert err.message.startswith("comprehensions and loops ('for') are not allowed")
    assert err.position == P(1, 9)


def test_bare_comprehension_is_rejected() -> None:
    """A comprehension outside in [...] gets the same message."""
    assert syntax_error("[y for y in z]").message.startswith("comprehensions and loops")


def test_generator_argument_is_rejected() -> None:
    """f(x for x in y) is a comprehension too."""
    assert syntax_error("f(x for x in y)").message.startswith("comprehensions and loops")


def test_conditional_expression_is_rejected() -> None:
    """a if b else c is refused with a hint."""
    assert syntax_error("a if b else c").message.startswith(
        "conditional expressions ('if ... else')"
    )


def test_comprehension_filter_is_rejected() -> None:
    """if inside brackets is refused."""
    assert syntax_error("x in [1 if y]").message.startswith("conditional expressions")


def test_power_operator_is_rejected() -> None:
    """** enables CPU exhaustion in other sandboxes and is not in the language."""
    err = syntax_error("a ** 2")
    assert err.message == "the power operator '**' is not allowed"
    assert err.position == P(1, 3)


def test_subscript_is_rejected() -> None:
    """x[0] is refused at the bracket."""
    err = syntax_error("x[0]")
    assert err.message == "subscripts like x[0] are not allowed"
    assert err.position == P(1, 2)


def test_keyword_argument_is_rejected() -> None:
    """f(a=1) is refused at the '='."""
    err = syntax_error("least(a=1, b)")
    assert (
        err.message == "keyword arguments (name=value) are not allowed; pass arguments by position"
    )
    assert err.position == P(1, 8)


def test_assignment_is_rejected() -> None:
    """A single '=' is assignment; the message suggests '=='."""
    err = syntax_error('tier = "A"')
    assert err.message == "'=' is assignment, which is not allowed; use '==' to compare"
    assert err.position == P(1, 6)


def test_walrus_is_rejected() -> None:
    """:= is assignment too."""
    assert (
        syntax_error("(x := 1)").message
        == "assignment (':=') is not allowed; a rule only reads values"
    )


def test_semicolon_is_rejected() -> None:
    """; would chain statements."""
    assert syntax_error("a; b").message == "';' is not allowed: a rule is a single expression"


def test_f_string_is_rejected() -> None:
    """f-strings could evaluate code."""
    err = syntax_error('x == f"{y}"')
    assert err.message.startswith('string prefixes like f"..."')
    assert err.position == P(1, 6)


def test_bytes_and_raw_prefixes_are_rejected() -> None:
    """b'', r'' and friends are refused the same way."""
    assert syntax_error("b'x'").message.startswith("string prefixes")
    assert syntax_error('rb"x"').message.startswith("string prefixes")


def test_matmul_operator_is_rejected() -> None:
    """@ is not an operator of the language."""
    assert syntax_error("a @ b").message == "'@' is not allowed"


def test_modulo_is_rejected() -> None:
    """% is not an operator of the language."""
    assert syntax_error("a % 2").message == "'%' (modulo) is not allowed"


def test_floor_division_is_rejected() -> None:
    """// is not an operator of the language."""
    assert syntax_error("a // 2").message.startswith("floor division '//' is not allowed")


@pytest.mark.parametrize(
    ("word", "suggestion"), [("None", "null"), ("True", "true"), ("False", "false")]
)
def test_python_constants_suggest_the_rule_spelling(word: str, suggestion: str) -> None:
    """None/True/False are Python; the message gives the rule language's word."""
    assert (
        syntax_error(f"x == {word}").message
        == f"'{word}' is Python; the rule language writes {suggestion}"
    )


@pytest.mark.parametrize(
    "char", ["$", "?", "\\", "!", "&", "|", "~", "{", "#", "`", "é", "\u00a0", "\x00"]
)
def test_unknown_characters_are_rejected(char: str) -> None:
    """Characters outside the language are refused at their position."""
    err = syntax_error(f"a {char} b")
    assert err.position == P(1, 3)


def test_non_ascii_character_is_named_by_code_point() -> None:
    """Invisible or look-alike characters are shown with their code point."""
    assert syntax_error("a\u00a0== b").message == "unexpected character '\\xa0' (U+00A0)"


def test_other_python_keywords_are_rejected() -> None:
    """Statements such as def or while are named as Python keywords."""
    assert (
        syntax_error("def f").message
        == "'def' is a Python keyword and not part of the rule language"
    )


def test_call_on_non_name_is_rejected() -> None:
    """Only named library functions and metrics can be called."""
    assert syntax_error("(f)(x)").message == "only named functions can be called, e.g. least(a, b)"


# -- unparse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'tier == "A" and visits_90d < planned_visits_90d',
        'attended("FAIR2025") and not ordered_since("FAIR2025")',
        "least(1, revenue_12m / potential_12m)",
        'company.abc_class in ["A", "B"]',
        "share_of_wallet is null",
        "x is not null",
        "x not in [1, -2.5]",
        "a - (b - c)",
        "-(a + b) * c",
        "not (a or b)",
        "a or (b and c)",
        "(a < b) == c",
        "(not a) == b",
        '"say \\"hi\\" \\\\ bye"',
    ],
)
def test_unparse_is_canonical(text: str) -> None:
    """Canonical text re-parses to the same tree and is stable for already-canonical input."""
    assert unparse(parse(text)) == text


def test_unparse_normalises_spacing_and_quotes() -> None:
    """Whitespace, single quotes and redundant parentheses disappear in canonical text."""
    assert unparse(parse("( a+b )*c>='x'")) == '(a + b) * c >= "x"'
    assert unparse(parse("a and b or c")) == "(a and b) or c"


def test_exactly_max_length_is_accepted() -> None:
    """The 4,000-character limit is inclusive."""
    text = "a or " * 799 + "abcd"
    assert len(text) == 3999
    parse(text + " ")
    assert syntax_error(text + "  ").message.startswith("expression is too long (4001 characters")


def test_missing_list_item_names_the_comma() -> None:
    """An empty slot in a list is reported after the comma, not after '['."""
    err = syntax_error("x in [1, , 2]")
    assert err.message == "expected an operand after ',', found ','"
    assert err.position == P(1, 10)
