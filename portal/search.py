"""Substring search with ILIKE: the text matched anywhere, its own % and _ taken literally."""

from sqlalchemy import ColumnElement

ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """The ILIKE pattern matching `text` anywhere (escape character: ESCAPE)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def contains(column, pattern) -> ColumnElement[bool]:
    """`column ILIKE pattern`, a pattern made by contains_pattern (a value or a bound parameter)."""
    return column.ilike(pattern, escape=ESCAPE)
