"""Rows of the list pages: the columns a page shows (not ORM objects), and the little computed from them."""

from portal.models.slot import minutes_between
from portal.models.user import person_name


class Timed:
    """A row with `starts_at` and `ends_at`."""

    __slots__ = ()

    @property
    def duration_minutes(self) -> int:
        return minutes_between(self.starts_at, self.ends_at)


class WithSpecialist(Timed):
    """A row with the specialist's `username` and `display_name`."""

    __slots__ = ()

    @property
    def specialist_name(self) -> str:
        return person_name(self.display_name, self.username)
