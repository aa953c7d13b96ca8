"""The admins' user search reads an index of word suffixes instead of trigrams

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 07:40:00

A trigram index answers a search from the lists of users holding each of its trigrams. Those lists grow with the
number of users whatever the search: every client's username holds `cli`, `ent` and `nt1`, so looking up one
client read the whole of each list (200,000 users: 3 ms for one match; 20,000 users: 0.4 ms). This index holds,
for each word of a user's username, email and display name (lower case, split at white space), every suffix of
three characters or more, cut to 16 characters. A text found inside a word is the start of one of its suffixes, so
the search asks for suffixes starting with each of its words (three characters or more, cut to 16): a range of
the index's sorted entries, as long as the matches themselves (one match: 0.03 ms at either size).

The index is a condition that every match meets, not the match itself: the search still checks its text inside
each column (ILIKE), so its results are the same as before. On SQLite (the embedded demo) nothing changes.
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

SEARCH_KEY = "username || ' ' || email || ' ' || coalesce(display_name, '')"
# The words of a text: split at ASCII white space only, the same set as portal/search.py, after lower().
WORDS = r"regexp_split_to_table(lower(t), '[ \t\n\r\f\v]+') AS w"
SUFFIX = 16

POSTGRESQL_UP = (
    f"""CREATE FUNCTION search_suffixes(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_to_tsvector(array_agg(DISTINCT substr(w, i, {SUFFIX})))
    FROM {WORDS}, generate_series(1, greatest(length(w) - 2, 1)) AS i
    WHERE w <> ''
$$""",
    # Each word of three characters or more as a quoted prefix ('it''s':*), all of them required. NULL without one.
    f"""CREATE FUNCTION search_prefixes(t text) RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg('''' || replace(replace(substr(w, 1, {SUFFIX}), '\\', '\\\\'), '''', '''''') || ''':*', ' & ')::tsquery
    FROM {WORDS}
    WHERE length(w) >= 3
$$""",
    f"CREATE INDEX ix_users_search_suffixes ON users USING gin (search_suffixes({SEARCH_KEY}))",
    "DROP INDEX ix_users_search_trgm",
)
POSTGRESQL_DOWN = (
    f"CREATE INDEX ix_users_search_trgm ON users USING gin (({SEARCH_KEY}) gin_trgm_ops)",
    "DROP INDEX ix_users_search_suffixes",
    "DROP FUNCTION search_prefixes(text)",
    "DROP FUNCTION search_suffixes(text)",
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_users_search_trgm")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX ix_users_search_trgm ON users (({SEARCH_KEY}))")
