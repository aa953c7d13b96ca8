"""Substring search with ILIKE: the text matched anywhere, its own % and _ taken literally.

On PostgreSQL the admins' user search also asks an index of word suffixes (migration 0014) for the users that can
match: `words_found` is that condition, `indexed_words` says whether a text has a word the index can look up.
"""

import re

from sqlalchemy import ColumnElement, func

ESCAPE = "\\"
# The white space the index's functions split words at (migration 0014): ASCII only, the same set in SQL and here.
_WHITE_SPACE = re.compile(r"[ \t\n\r\f\v]+")
SHORTEST_WORD = 3  # the index holds the suffixes of this many characters or more


def contains_pattern(text: str) -> str:
    """The ILIKE pattern matching `text` anywhere (escape character: ESCAPE)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def contains(column, pattern) -> ColumnElement[bool]:
    """`column ILIKE pattern`, a pattern made by contains_pattern (a value or a bound parameter)."""
    return column.ilike(pattern, escape=ESCAPE)


def indexed_words(text: str) -> bool:
    """Whether `text` has a word the suffix index can look up (otherwise the search reads every row)."""
    return any(len(word) >= SHORTEST_WORD for word in _WHITE_SPACE.split(text))


def words_found(key, text) -> ColumnElement[bool]:
    """Every word of `text` (of SHORTEST_WORD characters or more) starts a suffix of a word of `key`, any case.

    Every row in which `text` is found inside `key` meets it, provided indexed_words(text); PostgreSQL only.
    """
    return func.search_suffixes(key).bool_op("@@")(func.search_prefixes(text))
