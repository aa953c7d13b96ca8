"""Admins: the users list (GET /api/v1/admin/users), block and unblock (POST …/users/{user_id}/block|unblock)."""

from portal.api.auth import caller, requires
from portal.api.blueprint import answers, bp, page_body, query
from portal.api.schemas import BlockInput, UserArgs, UserPageSchema, UserSchema
from portal.blueprints.admin.listing import users_page
from portal.extensions import db
from portal.services import moderation


def _user(user) -> dict:
    """A user as the users page shows them (a row of that page or the account itself)."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "display_name": user.display_name,
        "confirmed": user.is_confirmed,
        "blocked": user.is_blocked,
        "blocked_reason": user.blocked_reason,
        "joined_at": user.created_at,
    }


@bp.route("/admin/users", methods=["GET"], tags=["Admin"])
@requires("admin")
@query(UserArgs)
@bp.response(200, UserPageSchema)
@answers(422)
def list_users(q="", role="", blocked="", sort="newest", after=None, before=None):
    """Users matching `q` (part of the username or email), by role and blocked; newest first unless `sort=oldest`."""
    page = users_page(q, role, blocked, oldest_first=sort == "oldest")
    args = {"q": q, "role": role, "blocked": blocked, "sort": sort if sort == "oldest" else None}
    return page_body(page, "api.list_users", [_user(row) for row in page.items], args)


@bp.route("/admin/users/<id:user_id>/block", methods=["POST"], tags=["Admin"])
@requires("admin")
@bp.arguments(BlockInput, required=False)
@bp.response(200, UserSchema)
@answers(404, 422)
def block_user(data: dict, user_id: int):
    """Block an account with an optional `reason`: every session and API token of it stops working at once.

    Blocking another administrator needs `"confirm": true`. You cannot block yourself.
    """
    user = moderation.block_user(caller(), user_id, data.get("reason"), confirmed=data.get("confirm", False))
    body = _user(user)
    db.session.commit()
    return body


@bp.route("/admin/users/<id:user_id>/unblock", methods=["POST"], tags=["Admin"])
@requires("admin")
@bp.response(200, UserSchema)
@answers(404, 422)
def unblock_user(user_id: int):
    """Unblock an account: it may log in and use its tokens again."""
    user = moderation.unblock_user(caller(), user_id)
    body = _user(user)
    db.session.commit()
    return body
