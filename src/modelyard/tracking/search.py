"""The run search language: a hand-written recursive-descent parser. Pure: no I/O.

Grammar (keywords are case-insensitive)::

    query      := [or_expr] [ORDER BY order {"," order}] [LIMIT integer]
    or_expr    := and_expr {OR and_expr}
    and_expr   := primary {AND primary}
    primary    := "(" or_expr ")" | comparison
    comparison := field op literal | field [NOT] (LIKE | ILIKE) string
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    field      := metrics.KEY | params.KEY | tags.KEY      (also metric. param. tag.)
                | status | start_time | end_time | run_id | experiment
    order      := field [ASC | DESC]
    literal    := number | 'string' | "string"

A KEY may be written in backquotes (``metrics.`my key```). Semantics:

* ``metrics.*`` are numbers; compare them with numbers. NaN matches only ``!=``.
* ``params.*`` and ``tags.*`` are strings. Against a quoted string they compare as strings;
  against a number they compare numerically if the value reads as a number (else no match).
* ``status`` compares case-insensitively with one of running, finished, failed, killed.
* ``start_time`` / ``end_time`` compare with epoch milliseconds or an ISO-8601 string.
* A run that lacks the field never matches a comparison on it (``!=`` included).
* ``LIKE``: ``%`` is any run of characters, ``_`` one character; case-sensitive
  (``ILIKE`` ignores case).
* Default order: newest ``start_time`` first. In ``ORDER BY`` a missing value sorts last.

Every syntax or type error raises FilterSyntaxError naming the 1-based column of the
offending token, with the filter and a caret under that spot in the message.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from modelyard.errors import FilterSyntaxError
from modelyard.tracking.model import RunStatus, decode_metric

__all__ = [
    "And",
    "Comparison",
    "Field",
    "Or",
    "OrderKey",
    "Query",
    "Row",
    "apply_order",
    "compile_filter",
    "parse_query",
]

Row = Mapping[str, Any]
"""What a compiled filter reads: ``metrics`` (key -> float or encoded NaN/inf string),
``params`` and ``tags`` (key -> str), ``status`` (str), ``start_ms`` and ``end_ms``
(int or None), ``run_id`` and ``experiment`` (str)."""

Kind = Literal[
    "metrics", "params", "tags", "status", "start_time", "end_time", "run_id", "experiment"
]

_SCALARS: dict[str, Kind] = {
    "status": "status",
    "start_time": "start_time",
    "end_time": "end_time",
    "run_id": "run_id",
    "experiment": "experiment",
}
_PREFIXES: dict[str, Kind] = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
}
_KEYWORDS = {"and", "or", "not", "like", "ilike", "order", "by", "asc", "desc", "limit"}
_OPS = ("<=", ">=", "!=", "<>", "==", "=", "<", ">")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/:]*")
_STATUSES = {s.value for s in RunStatus}


# -- AST -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """``kind`` plus, for metrics/params/tags, the ``key``."""

    kind: Kind
    key: str = ""

    def __str__(self) -> str:
        return f"{self.kind}.{self.key}" if self.key else self.kind


@dataclass(frozen=True)
class Comparison:
    field: Field
    op: str  # one of = != < <= > >= like ilike "not like" "not ilike"
    value: float | str


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


Expr = Comparison | And | Or


@dataclass(frozen=True)
class OrderKey:
    field: Field
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: ``where`` is None when the filter has no condition."""

    where: Expr | None
    order: tuple[OrderKey, ...] = ()
    limit: int | None = None


# -- tokens ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: Literal["word", "number", "string", "op", "lparen", "rparen", "comma", "end"]
    text: str
    column: int  # 1-based
    value: Any = None


def _error(text: str, column: int, message: str) -> FilterSyntaxError:
    caret = " " * (column - 1) + "^"
    return FilterSyntaxError(
        f"bad filter at column {column}: {message}\n  {text}\n  {caret}", column=column
    )


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Token("lparen", ch, col))
            i += 1
        elif ch == ")":
            tokens.append(_Token("rparen", ch, col))
            i += 1
        elif ch == ",":
            tokens.append(_Token("comma", ch, col))
            i += 1
        elif ch in "'\"":
            j = i + 1
            chars: list[str] = []
            while True:
                if j >= n:
                    raise _error(text, col, f"the string starting here has no closing {ch}")
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # doubled quote escapes itself
                        chars.append(ch)
                        j += 2
                        continue
                    break
                chars.append(text[j])
                j += 1
            tokens.append(_Token("string", text[i : j + 1], col, "".join(chars)))
            i = j + 1
        elif ch in "<>=!":
            op = next((o for o in _OPS if text.startswith(o, i)), None)
            if op is None:
                raise _error(text, col, f"{ch!r} is not an operator; use = != < <= > >=")
            tokens.append(_Token("op", op, col))
            i += len(op)
        elif (m := _NUMBER.match(text, i)) and (ch.isdigit() or ch in "+-."):
            end = m.end()
            if end < n and (text[end].isalpha() or text[end] == "_"):
                raise _error(text, col, f"{text[i : end + 1]!r}… is not a number")
            tokens.append(_Token("number", m.group(), col, float(m.group())))
            i = end
        elif (m := _WORD.match(text, i)) is not None:
            word = m.group()
            end = m.end()
            if word.endswith(".") and end < n and text[end] == "`":
                close = text.find("`", end + 1)
                if close < 0:
                    raise _error(text, end + 1, "the backquoted key starting here has no closing `")
                word += text[end + 1 : close]
                end = close + 1
            tokens.append(_Token("word", word, col))
            i = end
        else:
            raise _error(text, col, f"unexpected character {ch!r}")
    tokens.append(_Token("end", "", n + 1))
    return tokens


# -- parser ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def fail(self, message: str, tok: _Token | None = None) -> FilterSyntaxError:
        tok = tok or self.tok
        found = "the end of the filter" if tok.kind == "end" else repr(tok.text)
        return _error(self.text, tok.column, f"{message}, found {found}")

    def kind(self) -> str:
        """The current token's kind (a call, so type narrowing does not stick to it)."""
        return self.tokens[self.pos].kind

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() == word

    def advance(self) -> _Token:
        tok = self.tok
        self.pos += 1
        return tok

    def parse(self) -> Query:
        where: Expr | None = None
        if not (self.tok.kind == "end" or self.is_keyword("order") or self.is_keyword("limit")):
            where = self.or_expr()
        order: list[OrderKey] = []
        if self.is_keyword("order"):
            self.advance()
            if not self.is_keyword("by"):
                raise self.fail("expected BY after ORDER")
            self.advance()
            order.append(self.order_key())
            while self.tok.kind == "comma":
                self.advance()
                order.append(self.order_key())
        limit: int | None = None
        if self.is_keyword("limit"):
            self.advance()
            tok = self.tok
            if tok.kind != "number" or not float(tok.value).is_integer() or tok.value < 0:
                raise self.fail("expected a whole number >= 0 after LIMIT")
            limit = int(tok.value)
            self.advance()
        if self.tok.kind != "end":
            if where is not None and self.tok.kind in ("word", "lparen"):
                raise self.fail("expected AND, OR, ORDER BY or LIMIT")
            if self.tok.kind == "rparen":
                raise self.fail("this ')' closes nothing")
            raise self.fail("expected the end of the filter")
        return Query(where, tuple(order), limit)

    def or_expr(self) -> Expr:
        parts = [self.and_expr()]
        while self.is_keyword("or"):
            self.advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Expr:
        parts = [self.primary()]
        while self.is_keyword("and"):
            self.advance()
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def primary(self) -> Expr:
        if self.tok.kind == "lparen":
            opening = self.advance()
            inner = self.or_expr()
            if self.kind() != "rparen":
                raise self.fail(f"expected ')' to close the '(' at column {opening.column}")
            self.advance()
            return inner
        return self.comparison()

    def field(self) -> Field:
        tok = self.tok
        if tok.kind != "word" or tok.text.lower() in _KEYWORDS:
            raise self.fail(
                "expected a field (metrics.KEY, params.KEY, tags.KEY, status, start_time, "
                "end_time, run_id, experiment)"
            )
        self.advance()
        head, dot, key = tok.text.partition(".")
        lower = head.lower()
        if not dot:
            if lower in _SCALARS:
                return Field(_SCALARS[lower])
            if lower in _PREFIXES:
                raise _error(self.text, tok.column, f"{tok.text!r} needs a key, e.g. {lower}.auc")
            raise _error(
                self.text,
                tok.column,
                f"unknown field {tok.text!r}; use metrics.KEY, params.KEY, tags.KEY, "
                "status, start_time, end_time, run_id or experiment",
            )
        if lower not in _PREFIXES:
            raise _error(
                self.text,
                tok.column,
                f"unknown field prefix {head!r}; use metrics., params. or tags.",
            )
        if not key:
            raise _error(self.text, tok.column + len(head) + 1, "expected a key after the '.'")
        return Field(_PREFIXES[lower], key)

    def comparison(self) -> Comparison:
        field_tok = self.tok
        field = self.field()
        negate = False
        if self.is_keyword("not"):
            self.advance()
            negate = True
            if not (self.is_keyword("like") or self.is_keyword("ilike")):
                raise self.fail("expected LIKE or ILIKE after NOT")
        op_tok = self.tok
        if op_tok.kind == "op":
            op = {"==": "=", "<>": "!="}.get(op_tok.text, op_tok.text)
        elif self.is_keyword("like") or self.is_keyword("ilike"):
            op = op_tok.text.lower()
        else:
            raise self.fail(f"expected an operator (= != < <= > >= LIKE) after {field}")
        self.advance()
        if negate:
            op = "not " + op
        lit = self.tok
        if lit.kind not in ("number", "string"):
            raise self.fail(f"expected a number or a quoted string after {op_tok.text!r}")
        self.advance()
        value = _check_types(self.text, field, field_tok, op, op_tok, lit)
        return Comparison(field, op, value)

    def order_key(self) -> OrderKey:
        field = self.field()
        descending = False
        if self.is_keyword("asc") or self.is_keyword("desc"):
            descending = self.advance().text.lower() == "desc"
        return OrderKey(field, descending)


def _check_types(
    text: str, field: Field, field_tok: _Token, op: str, op_tok: _Token, lit: _Token
) -> float | str:
    like = op.endswith("like")
    if like and lit.kind != "string":
        raise _error(text, lit.column, f"{op.upper()} needs a quoted pattern such as '%lgbm%'")
    kind = field.kind
    if kind == "metrics":
        if like:
            raise _error(text, op_tok.column, f"{field} is a number; LIKE works on strings only")
        if lit.kind != "number":
            raise _error(text, lit.column, f"{field} is a number; compare it with a number")
        return float(lit.value)
    if kind in ("start_time", "end_time"):
        if like:
            raise _error(text, op_tok.column, f"{kind} is a time; LIKE works on strings only")
        if lit.kind == "number":
            return float(lit.value)
        try:
            when = datetime.fromisoformat(lit.value)
        except ValueError:
            raise _error(
                text,
                lit.column,
                f"{lit.text} is not an ISO-8601 time (e.g. '2024-05-01T12:00:00+00:00') "
                "nor epoch milliseconds",
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return float(round(when.timestamp() * 1000))
    if kind in ("status", "run_id", "experiment"):
        if lit.kind != "string":
            raise _error(text, lit.column, f"{kind} is a string; quote the value")
        if kind == "status":
            if op not in ("=", "!=") and not like:
                raise _error(text, op_tok.column, "status supports = != and LIKE only")
            if not like:
                value = str(lit.value).lower()
                if value not in _STATUSES:
                    raise _error(
                        text,
                        lit.column,
                        f"unknown status {lit.text}; use one of {', '.join(sorted(_STATUSES))}",
                    )
                return value
        return str(lit.value)
    # params, tags
    del field_tok
    return float(lit.value) if lit.kind == "number" else str(lit.value)


def parse_query(text: str) -> Query:
    """Parse a filter (with optional ORDER BY and LIMIT).

    Raises:
        FilterSyntaxError: with the 1-based column of the offending token.
    """
    if not isinstance(text, str):
        raise FilterSyntaxError(f"a filter must be a string, got {type(text).__name__}", column=1)
    return _Parser(text).parse()


# -- evaluation ------------------------------------------------------------------------------
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def like_to_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE as an anchored regular expression (``%`` any run, ``_`` one character)."""
    parts = ["%" if c == "%" else "_" if c == "_" else re.escape(c) for c in pattern]
    body = "".join(".*" if p == "%" else "." if p == "_" else p for p in parts)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _getter(field: Field) -> Callable[[Row], Any]:
    kind, key = field.kind, field.key
    if kind == "metrics":

        def metric(row: Row) -> Any:
            value = row["metrics"].get(key)
            return decode_metric(value) if isinstance(value, str) else value

        return metric
    if kind in ("params", "tags"):
        return lambda row: row[kind].get(key)
    if kind == "start_time":
        return lambda row: row.get("start_ms")
    if kind == "end_time":
        return lambda row: row.get("end_ms")
    return lambda row: row.get(kind)


def _as_number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _compile(expr: Expr) -> Callable[[Row], bool]:
    if isinstance(expr, And):
        parts = [_compile(p) for p in expr.parts]
        return lambda row: all(p(row) for p in parts)
    if isinstance(expr, Or):
        parts = [_compile(p) for p in expr.parts]
        return lambda row: any(p(row) for p in parts)
    get = _getter(expr.field)
    target = expr.value
    op = expr.op
    if op.endswith("like"):
        regex = like_to_regex(str(target), ignore_case=op.endswith("ilike"))
        want = not op.startswith("not ")
        lower = expr.field.kind == "status"

        def like(row: Row) -> bool:
            value = get(row)
            if value is None:
                return False
            if lower:
                value = value.lower()
            return (regex.fullmatch(value) is not None) == want

        return like
    cmp = _CMP[op]
    if expr.field.kind in ("params", "tags") and isinstance(target, float):

        def numeric_string(row: Row) -> bool:
            value = get(row)
            if value is None:
                return False
            number = _as_number(value)
            return number is not None and cmp(number, target)

        return numeric_string

    def compare(row: Row) -> bool:
        value = get(row)
        return value is not None and cmp(value, target)

    return compare


def compile_filter(query: Query) -> Callable[[Row], bool]:
    """A predicate over rows for ``query.where`` (always true when there is none)."""
    if query.where is None:
        return lambda row: True
    return _compile(query.where)


def _sort_value(field: Field, value: Any) -> Any:
    if field.kind == "metrics" and isinstance(value, float) and math.isnan(value):
        return None  # NaN has no place in an order: it sorts with the missing values
    return value


def apply_order(rows: Sequence[Row], order: Sequence[OrderKey]) -> list[Row]:
    """Rows newest-first by start time (ties by run id), then by each ``order`` key in turn.

    A missing (or NaN) value sorts last whatever the direction. Sorting is stable, so rows
    equal on every key keep the default order.
    """
    result = sorted(rows, key=lambda r: r.get("run_id") or "")
    result.sort(key=lambda r: r.get("start_ms") or 0, reverse=True)
    for key in reversed(order):
        get = _getter(key.field)
        present: list[tuple[Any, Row]] = []
        missing: list[Row] = []
        for row in result:
            value = _sort_value(key.field, get(row))
            (missing.append(row) if value is None else present.append((value, row)))
        present.sort(key=lambda pair: pair[0], reverse=key.descending)
        result = [row for _, row in present] + missing
    return result
