"""Jurisdiction profiles and response clocks: when a records request is due and when it is overdue.

The holidays are computed here from their rules rather than taken from the `holidays`
package: the rules are few and stable, the code is short enough to audit against the
statutes it cites, and a deadline shown to a requester should not move because a
third-party dependency changed its data. Calendars:

- `se`: the Swedish public holidays (lag 1989:253 om allmänna helgdagar) plus midsommarafton,
  julafton and nyårsafton, which are not helgdagar in law but are treated as non-working
  days by kommuner and by statute elsewhere (semesterlagen 3 a §); Saturdays and Sundays.
- `us-federal`: 5 U.S.C. 6103 with the observed-day rule of Executive Order 11582 (a
  holiday on Saturday is observed on Friday, on Sunday on Monday).
- `us-wa`: RCW 1.16.050 (state holidays incl. the day after Thanksgiving; the same
  Saturday → Friday, Sunday → Monday rule); Juneteenth from 2022.
- `none`: weekends only, for custom profiles.

Counting (both US statutes and agency practice): the day a request is received is not
counted; a request received on a non-working day counts as received on the next working
day. A profile with `response_days: 0` (Sweden, "skyndsamt") is therefore due on the day
it arrives, or the next working day. The due date is a local date in the profile's time
zone; the answer is late once that whole day has passed. Office hours are not modelled: a
request e-mailed at 23:00 counts from that date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import TypeAdapter, ValidationError

from schemas import DayClock, JurisdictionProfile

from ..errors import ConfigError

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


# --- Holiday rules ------------------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Meeus/Jones/Butcher computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _weekday_between(year: int, month: int, first_day: int, weekday: int) -> date:
    """The `weekday` in the seven days starting at `first_day` (midsommar, alla helgons dag)."""
    start = date(year, month, first_day)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def swedish_holidays(year: int) -> dict[date, str]:
    """Non-working days of a Swedish authority in `year`, other than ordinary weekends."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1): "Nyårsdagen",
        date(year, 1, 6): "Trettondedag jul",
        easter - timedelta(days=2): "Långfredagen",
        easter: "Påskdagen",
        easter + timedelta(days=1): "Annandag påsk",
        date(year, 5, 1): "Första maj",
        easter + timedelta(days=39): "Kristi himmelsfärds dag",
        easter + timedelta(days=49): "Pingstdagen",
        date(year, 6, 6): "Sveriges nationaldag",
        _weekday_between(year, 6, 19, FRI): "Midsommarafton",
        _weekday_between(year, 6, 20, SAT): "Midsommardagen",
        _weekday_between(year, 10, 31, SAT): "Alla helgons dag",
        date(year, 12, 24): "Julafton",
        date(year, 12, 25): "Juldagen",
        date(year, 12, 26): "Annandag jul",
        date(year, 12, 31): "Nyårsafton",
    }
    if year < 2005:  # SFS 2004:1227: nationaldagen replaced annandag pingst from 2005
        del days[date(year, 6, 6)]
        days[easter + timedelta(days=50)] = "Annandag pingst"
    return days


def _observed(day: date) -> date:
    """US rule: a holiday on Saturday is observed on the Friday before, on Sunday the Monday after."""
    if day.weekday() == SAT:
        return day - timedelta(days=1)
    if day.weekday() == SUN:
        return day + timedelta(days=1)
    return day


def _us_fixed(year: int, washington: bool) -> dict[date, str]:
    fixed = {(1, 1): "New Year's Day", (7, 4): "Independence Day", (11, 11): "Veterans Day", (12, 25): "Christmas Day"}
    if year >= (2022 if washington else 2021):
        fixed[(6, 19)] = "Juneteenth"
    return {date(year, month, day): name for (month, day), name in fixed.items()}


def _us_holidays(year: int, washington: bool) -> dict[date, str]:
    days: dict[date, str] = {}
    # Next year's New Year's Day observed on 31 December belongs to this year.
    for actual, name in [*_us_fixed(year, washington).items(), *_us_fixed(year + 1, washington).items()]:
        for day in {actual, _observed(actual)}:
            if day.year == year:
                days[day] = name if day == actual else f"{name} (observed)"
    thanksgiving = _nth_weekday(year, 11, THU, 4)
    days.update(
        {
            _nth_weekday(year, 1, MON, 3): "Martin Luther King Jr. Day",
            _nth_weekday(year, 2, MON, 3): "Presidents' Day" if washington else "Washington's Birthday",
            _nth_weekday(year, 5, MON, -1): "Memorial Day",
            _nth_weekday(year, 9, MON, 1): "Labor Day",
            thanksgiving: "Thanksgiving Day",
        }
    )
    if washington:
        days[thanksgiving + timedelta(days=1)] = "Day after Thanksgiving (Native American Heritage Day)"
    else:
        days[_nth_weekday(year, 10, MON, 2)] = "Columbus Day"
    return days


def us_federal_holidays(year: int) -> dict[date, str]:
    """US federal holidays (5 U.S.C. 6103) and their observed weekdays, as they fall in `year`."""
    return _us_holidays(year, washington=False)


def washington_holidays(year: int) -> dict[date, str]:
    """Washington State legal holidays (RCW 1.16.050) and their observed weekdays, in `year`."""
    return _us_holidays(year, washington=True)


CALENDARS: Mapping[str, Callable[[int], dict[date, str]]] = MappingProxyType(
    {
        "se": swedish_holidays,
        "us-federal": us_federal_holidays,
        "us-wa": washington_holidays,
        "none": lambda year: {},
    }
)


@lru_cache(maxsize=256)
def holidays(calendar_id: str, year: int) -> Mapping[date, str]:
    """Holiday name by date for one calendar and year (read-only, cached)."""
    try:
        rule = CALENDARS[calendar_id]
    except KeyError:
        raise ConfigError(
            f"unknown holiday calendar {calendar_id!r}", hint=f"use one of {', '.join(sorted(CALENDARS))}"
        ) from None
    return MappingProxyType(rule(year))


def is_working_day(day: date, calendar_id: str) -> bool:
    """Monday to Friday and not a holiday of the calendar."""
    return day.weekday() < SAT and day not in holidays(calendar_id, day.year)


def next_working_day(day: date, calendar_id: str) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day, calendar_id):
        day += timedelta(days=1)
    return day


def add_business_days(start: date, days: int, calendar_id: str) -> date:
    """The `days`-th working day after `start` (`start` itself not counted).

    With `days == 0` the answer is `start` if it is a working day, else the next one.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return next_working_day(start, calendar_id)
    day = start
    for _ in range(days):
        day = next_working_day(day + timedelta(days=1), calendar_id)
    return day


# --- Clocks -------------------------------------------------------------------------------


def _local_date(profile: JurisdictionProfile, moment: datetime, name: str) -> date:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (naive datetimes are ambiguous across jurisdictions)")
    return moment.astimezone(ZoneInfo(profile.timezone)).date()


def _add_days(profile: JurisdictionProfile, start: date, days: int) -> date:
    if profile.clock is DayClock.BUSINESS:
        return add_business_days(start, days, profile.holiday_calendar)
    # Calendar clock: count every day; a period ending on a non-working day runs to the next one.
    return next_working_day(start + timedelta(days=days), profile.holiday_calendar)


def due_date(profile: JurisdictionProfile, received: datetime, *, extended: bool = False) -> date:
    """Last local day on which the response is on time; `extended` adds the profile's extension days."""
    received_on = _local_date(profile, received, "received")
    if profile.clock is DayClock.BUSINESS:
        received_on = next_working_day(received_on, profile.holiday_calendar)
    days = profile.response_days + (profile.extension_days if extended else 0)
    return _add_days(profile, received_on, days)


def overdue_at(profile: JurisdictionProfile, received: datetime, *, extended: bool = False) -> datetime:
    """The first instant at which a request still open is overdue (local midnight after the limit day).

    The limit day is the due date plus the profile's `overdue_after_days` (for Sweden: one
    working day past the same-day target, SE-6).
    """
    limit = _add_days(profile, due_date(profile, received, extended=extended), profile.overdue_after_days)
    return datetime.combine(limit + timedelta(days=1), time(), tzinfo=ZoneInfo(profile.timezone))


def is_overdue(
    profile: JurisdictionProfile,
    received: datetime,
    now: datetime,
    delivered: datetime | None = None,
    *,
    extended: bool = False,
) -> bool:
    """Whether the request is (or, if delivered, was) past its overdue limit as of `now`.

    A request delivered before the limit is never overdue; one delivered after it stays
    overdue, because it was answered late and compliance reports must say so. Callers that
    only want open cases filter on `delivered` themselves.
    """
    _local_date(profile, now, "now")
    reference = now
    if delivered is not None:
        _local_date(profile, delivered, "delivered")
        reference = min(now, delivered)
    return reference >= overdue_at(profile, received, extended=extended)


# --- Loading ------------------------------------------------------------------------------

_PROFILES = TypeAdapter(list[JurisdictionProfile])


def _describe(source: str, raw: Any, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = source
    if loc and isinstance(loc[0], int):
        name = None
        with suppress(KeyError, IndexError, TypeError, AttributeError):
            name = raw[loc[0]].get("id")
        where += f": profile #{loc[0] + 1}" + (f" ({name})" if name else "")
        loc = loc[1:]
    message = str(err["msg"]).removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    field = f": field '{'.'.join(str(p) for p in loc)}'" if loc else ""
    return f"{where}{field}: {message}{more}"


def load_profiles(path: Path | None = None) -> dict[str, JurisdictionProfile]:
    """The jurisdiction profiles by id: the shipped file, or `path` instead of it.

    A custom file replaces the shipped profiles as a whole (it is not merged), so the
    profiles in force are exactly those in one file a reviewer can read. Any problem is a
    `ConfigError` with one line naming the file, the profile and the field.
    """
    if path is None:
        source = "archive/requests/profiles.yaml"
        text = resources.files("archive.requests").joinpath("profiles.yaml").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: profiles file not found") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: profiles file is not UTF-8 text") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"{source}: not valid YAML" + (f" at line {mark.line + 1}" if mark else "")) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("profiles"), list) or set(raw) != {"profiles"}:
        raise ConfigError(f"{source}: expected a mapping with only a 'profiles' list")
    try:
        profiles = _PROFILES.validate_python(raw["profiles"])
    except ValidationError as exc:
        raise ConfigError(_describe(source, raw["profiles"], exc)) from exc
    found: dict[str, JurisdictionProfile] = {}
    for i, profile in enumerate(profiles):
        where = f"{source}: profile #{i + 1} ({profile.id})"
        if profile.id in found:
            raise ConfigError(f"{where}: duplicate id")
        if profile.holiday_calendar not in CALENDARS:
            raise ConfigError(
                f"{where}: field 'holiday_calendar': unknown calendar {profile.holiday_calendar!r}; "
                f"known: {', '.join(sorted(CALENDARS))}"
            )
        found[profile.id] = profile
    return found


__all__ = [
    "CALENDARS",
    "add_business_days",
    "due_date",
    "easter_sunday",
    "holidays",
    "is_overdue",
    "is_working_day",
    "load_profiles",
    "next_working_day",
    "overdue_at",
    "swedish_holidays",
    "us_federal_holidays",
    "washington_holidays",
]
