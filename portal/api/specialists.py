"""GET /api/v1/specialists: the active specialists, for any role."""

from datetime import datetime
from functools import cache, partial
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Select, bindparam, or_, select

from portal.api.auth import requires
from portal.api.blueprint import answers, bp, page_body, query
from portal.api.schemas import DirectoryPageSchema, SpecialistArgs
from portal.models import User
from portal.models.user import person_name
from portal.pagination import keyset_page, ordered
from portal.search import contains, contains_pattern


class SpecialistRow(NamedTuple):
    """A specialist as the list shows them (columns, not an ORM object)."""

    id: int
    created_at: datetime
    username: str
    display_name: str | None
    specialty: str | None
    bio: str | None

    def body(self) -> dict:
        name = person_name(self.display_name, self.username)
        return {"username": self.username, "name": name, "specialty": self.specialty, "bio": self.bio}


@cache
def _specialist_list(by_name: bool, by_specialty: bool, limit: int, ascending: bool, with_cursor: bool) -> Select:
    """A page's statement of active specialists for this set of filters, built once; values bound per call."""
    stmt = select(*(getattr(User, name) for name in SpecialistRow._fields)).where(User.is_active_specialist)
    if by_name:
        pattern = bindparam("name")
        stmt = stmt.where(or_(contains(User.username, pattern), contains(User.display_name, pattern)))
    if by_specialty:
        stmt = stmt.where(contains(User.specialty, bindparam("specialty")))
    return ordered(stmt, (User.created_at, User.id), ascending, with_cursor, limit)


@bp.route("/specialists", methods=["GET"], tags=["Specialists"])
@requires("client", "specialist", "admin")
@query(SpecialistArgs)
@bp.response(200, DirectoryPageSchema)
@answers(422)
def list_specialists(q: str = "", specialty: str = "", after=None, before=None):
    """Active specialists, in the order they joined.

    Filter by part of the name or username (`q`) and by part of the specialty, in any case.
    """
    limit = current_app.config["PAGE_SIZE"]
    params = {}
    if q:
        params["name"] = contains_pattern(q)
    if specialty:
        params["specialty"] = contains_pattern(specialty)
    page = keyset_page(
        partial(_specialist_list, bool(q), bool(specialty), limit),
        lambda row: (row.created_at, row.id),
        after=after,
        before=before,
        params=params,
        make=SpecialistRow,
        limit=limit,
    )
    items = [row.body() for row in page.items]
    return page_body(page, "api.list_specialists", items, {"q": q, "specialty": specialty})
