"""A specialist's working hours, the booking rules they set, and their days off (SPEC §12)."""

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    and_,
    bindparam,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import func
from sqlalchemy.sql.functions import FunctionElement

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.slot import Slot

# What applies to a specialist who has never saved the availability page (their manual slots only).
DEFAULT_SESSION_MINUTES = 60
DEFAULT_BREAK_MINUTES = 0
DEFAULT_NOTICE_HOURS = 0
DEFAULT_HORIZON_DAYS = 365
HORIZON_DAYS_MAX = 365  # the furthest a specialist may open booking (the form and the check below)
DEFAULT_CUTOFF_HOURS = 0


class Availability(Base):
    """One row per specialist who has saved the availability page: the rules for generating and booking slots."""

    __tablename__ = "availabilities"
    __table_args__ = (
        CheckConstraint("session_minutes BETWEEN 15 AND 240", name="session_minutes"),
        CheckConstraint("break_minutes BETWEEN 0 AND 120", name="break_minutes"),
        CheckConstraint("notice_hours BETWEEN 0 AND 720", name="notice_hours"),
        CheckConstraint(f"horizon_days BETWEEN 1 AND {HORIZON_DAYS_MAX}", name="horizon_days"),
        CheckConstraint("cutoff_hours BETWEEN 0 AND 720", name="cutoff_hours"),
    )

    specialist_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    session_minutes: Mapped[int] = mapped_column(default=DEFAULT_SESSION_MINUTES)
    break_minutes: Mapped[int] = mapped_column(default=DEFAULT_BREAK_MINUTES)
    notice_hours: Mapped[int] = mapped_column(default=DEFAULT_NOTICE_HOURS)
    horizon_days: Mapped[int] = mapped_column(default=DEFAULT_HORIZON_DAYS)
    cutoff_hours: Mapped[int] = mapped_column(default=DEFAULT_CUTOFF_HOURS)
    # Slots have been generated up to this instant; the daily extension continues from here.
    generated_until: Mapped[Optional[datetime]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkingHours(Base):
    """One range of one weekday (0 = Monday), in minutes from midnight of the specialist's zone."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="range"),
        Index("ix_working_hours_specialist_id_weekday", "specialist_id", "weekday", "start_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class DayOff(Base):
    """A period (whole days in the specialist's zone, both ends included) with no generated slots."""

    __tablename__ = "days_off"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="order"),
        Index("ix_days_off_specialist_id_first_day", "specialist_id", "first_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    note: Mapped[Optional[str]] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class plus_hours(FunctionElement):
    """An instant moved on by a whole number of hours given as SQL (per row): `moment + hours`."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_hours"


@compiles(plus_hours, "postgresql")
def _plus_hours_postgresql(element, compiler, **kw):
    moment, hours = element.clauses
    return f"({compiler.process(moment, **kw)} + make_interval(hours => {compiler.process(hours, **kw)}))"


@compiles(plus_hours)
def _plus_hours_sqlite(element, compiler, **kw):
    # SQLite keeps instants as text "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), compared as text: the same shape back.
    moment, hours = element.clauses
    moment, hours = compiler.process(moment, **kw), compiler.process(hours, **kw)
    return f"(strftime('%Y-%m-%d %H:%M:%f', {moment}, ({hours}) || ' hours') || '000')"


def _rule(column, default: int) -> ColumnElement[int]:
    """One booking rule of each slot's specialist (correlated to Slot), or its default without an Availability row."""
    chosen = select(column).where(Availability.specialist_id == Slot.specialist_id).correlate(Slot).scalar_subquery()
    return func.coalesce(chosen, default)


def _starts_within_notice(notice_hours) -> ColumnElement[bool]:
    """The notice rule itself: a slot starting no later than `notice_hours` (SQL) after `now` (bound)."""
    now = bindparam("now", type_=Slot.starts_at.type)
    return Slot.starts_at <= plus_hours(now, notice_hours)


def _starts_beyond_horizon(horizon_days) -> ColumnElement[bool]:
    """The horizon rule itself: a slot starting more than `horizon_days` (SQL) after `now` (bound)."""
    now = bindparam("now", type_=Slot.starts_at.type)
    return Slot.starts_at > plus_hours(now, horizon_days * 24)


def too_soon() -> ColumnElement[bool]:
    """Whether each slot starts sooner than its specialist's minimum notice after `now` (bound)."""
    return _starts_within_notice(_rule(Availability.notice_hours, DEFAULT_NOTICE_HOURS))


def too_late() -> ColumnElement[bool]:
    """Whether each slot starts beyond its specialist's booking horizon after `now` (bound): not open yet."""
    return _starts_beyond_horizon(_rule(Availability.horizon_days, DEFAULT_HORIZON_DAYS))


def within_window() -> ColumnElement[bool]:
    """Not too_soon() and not too_late(), written for lists that walk slots in time order: the rules of a
    specialist's Availability row as an anti-join, and the widest horizon anyone may have (HORIZON_DAYS_MAX,
    which the default does not exceed) as a plain bound. PostgreSQL estimates the number of rows of this form
    well, so it walks the slots' time index instead of collecting and sorting every future slot of the
    specialists asked for."""
    now = bindparam("now", type_=Slot.starts_at.type)
    outside = (
        select(Availability.specialist_id)
        .where(
            Availability.specialist_id == Slot.specialist_id,
            _starts_within_notice(Availability.notice_hours) | _starts_beyond_horizon(Availability.horizon_days),
        )
        .correlate(Slot)
        .exists()
    )
    return and_(Slot.starts_at <= plus_hours(now, literal(HORIZON_DAYS_MAX * 24)), ~outside)
