"""What an admin does through the moderation pages."""


def block(admin_browser, user, reason: str = "", **extra):
    """Submit the block confirmation page (confirm="" stands for a post that skipped it)."""
    data = {"reason": reason, "next": "/admin/users", "confirm": "yes"} | extra
    return admin_browser.submit(f"/admin/users/{user.id}/block", data, from_url="/admin/users")


def unblock(admin_browser, user):
    """Press the unblock button for `user` on the users page."""
    return admin_browser.submit(f"/admin/users/{user.id}/unblock", {"next": "/admin/users"}, from_url="/admin/users")
