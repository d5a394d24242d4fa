"""Response clocks: WA five business days over Thanksgiving, Swedish same-day over påsk and midsommar, FOIA."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from archive.errors import ConfigError
from archive.requests.profiles import (
    add_business_days,
    due_date,
    easter_sunday,
    holidays,
    is_overdue,
    is_working_day,
    load_profiles,
    overdue_at,
    swedish_holidays,
    us_federal_holidays,
    washington_holidays,
)
from schemas import JurisdictionProfile

STHLM = ZoneInfo("Europe/Stockholm")
PACIFIC = ZoneInfo("America/Los_Angeles")
EASTERN = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def profiles() -> dict[str, JurisdictionProfile]:
    return load_profiles()


def test_shipped_profiles(profiles: dict[str, JurisdictionProfile]) -> None:
    assert set(profiles) == {"se", "us-foia", "us-wa"}
    assert "OSL 21:7" in profiles["se"].default_grounds
    assert "5 U.S.C. 552(b)(6)" in profiles["us-foia"].default_grounds
    assert "RCW 42.56.230" in profiles["us-wa"].default_grounds
    assert [profiles[p].response_days for p in ("us-foia", "us-wa", "se")] == [20, 5, 0]


def test_wa_request_on_friday_skips_weekend_thanksgiving_and_the_day_after(
    profiles: dict[str, JurisdictionProfile],
) -> None:
    wa = profiles["us-wa"]
    received = datetime(2026, 11, 20, 14, 0, tzinfo=PACIFIC)  # Friday
    assert date(2026, 11, 26) in washington_holidays(2026) and date(2026, 11, 27) in washington_holidays(2026)
    # Mon 23, Tue 24, Wed 25, (Thu 26 Thanksgiving, Fri 27 day after, weekend) Mon 30, Tue 1 December.
    assert due_date(wa, received) == date(2026, 12, 1)
    assert not is_overdue(wa, received, datetime(2026, 12, 1, 23, 59, tzinfo=PACIFIC))
    assert is_overdue(wa, received, datetime(2026, 12, 2, 0, 0, tzinfo=PACIFIC))


def test_days_are_counted_in_the_profile_time_zone(profiles: dict[str, JurisdictionProfile]) -> None:
    wa = profiles["us-wa"]
    # Saturday 01:00 UTC is still Friday evening in Seattle.
    assert due_date(wa, datetime(2026, 11, 21, 1, 0, tzinfo=ZoneInfo("UTC"))) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="time zone"):
        due_date(wa, datetime(2026, 11, 20, 14, 0))


def test_a_request_received_on_a_weekend_counts_from_the_next_working_day(
    profiles: dict[str, JurisdictionProfile],
) -> None:
    wa = profiles["us-wa"]
    # Saturday 21 Nov counts as received Monday 23: Tue 24, Wed 25, (26, 27, weekend) Mon 30, Tue 1, Wed 2 December.
    assert due_date(wa, datetime(2026, 11, 21, 10, tzinfo=PACIFIC)) == date(2026, 12, 2)
    assert due_date(wa, datetime(2026, 11, 23, 10, tzinfo=PACIFIC)) == date(2026, 12, 2)
    assert due_date(wa, datetime(2026, 11, 24, 10, tzinfo=PACIFIC)) == date(2026, 12, 3)


def test_foia_twenty_working_days_across_christmas_and_new_year(profiles: dict[str, JurisdictionProfile]) -> None:
    foia = profiles["us-foia"]
    received = datetime(2026, 12, 14, 11, tzinfo=EASTERN)  # Monday
    # 15-18, 21-24 (8), 25 Christmas, 28-31 (12), 1 January 2027, 4-8 (17), 11-13 (20).
    assert due_date(foia, received) == date(2027, 1, 13)
    assert due_date(foia, received, extended=True) == date(2027, 1, 28)  # 10 more; MLK day 18 January skipped
    assert is_overdue(foia, received, datetime(2027, 1, 14, 0, 0, tzinfo=EASTERN))
    assert not is_overdue(foia, received, datetime(2027, 1, 14, 0, 0, tzinfo=EASTERN), extended=True)


def test_swedish_same_day_and_overdue_after_one_more_working_day(profiles: dict[str, JurisdictionProfile]) -> None:
    se = profiles["se"]
    received = datetime(2026, 11, 24, 10, 15, tzinfo=STHLM)  # Tuesday
    assert due_date(se, received) == date(2026, 11, 24)
    assert not is_overdue(se, received, datetime(2026, 11, 25, 16, 0, tzinfo=STHLM))
    assert is_overdue(se, received, datetime(2026, 11, 26, 0, 0, tzinfo=STHLM))
    delivered_on_time = datetime(2026, 11, 24, 15, 0, tzinfo=STHLM)
    assert not is_overdue(se, received, datetime(2026, 12, 24, tzinfo=STHLM), delivered=delivered_on_time)
    delivered_late = datetime(2026, 11, 30, 9, 0, tzinfo=STHLM)
    assert is_overdue(se, received, datetime(2026, 12, 24, tzinfo=STHLM), delivered=delivered_late)


def test_swedish_easter(profiles: dict[str, JurisdictionProfile]) -> None:
    se = profiles["se"]
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2027) == date(2027, 3, 28)
    assert easter_sunday(2038) == date(2038, 4, 25)
    days = swedish_holidays(2026)
    assert days[date(2026, 4, 3)] == "Långfredagen" and days[date(2026, 4, 6)] == "Annandag påsk"
    assert days[date(2026, 5, 14)] == "Kristi himmelsfärds dag"
    # Received skärtorsdag: due the same day; overdue only after the next working day, Tuesday 7 April.
    received = datetime(2026, 4, 2, 13, 0, tzinfo=STHLM)
    assert due_date(se, received) == date(2026, 4, 2)
    assert overdue_at(se, received) == datetime(2026, 4, 8, 0, 0, tzinfo=STHLM)
    # Received on långfredagen: due on the first working day, Tuesday after annandag påsk.
    assert due_date(se, datetime(2026, 4, 3, 9, tzinfo=STHLM)) == date(2026, 4, 7)


def test_swedish_midsommar_and_christmas_eves(profiles: dict[str, JurisdictionProfile]) -> None:
    se = profiles["se"]
    for year, eve in [(2026, date(2026, 6, 19)), (2027, date(2027, 6, 25)), (2028, date(2028, 6, 23))]:
        days = swedish_holidays(year)
        assert days[eve] == "Midsommarafton" and eve.weekday() == 4
        assert days[eve + timedelta(days=1)] == "Midsommardagen"
    assert due_date(se, datetime(2026, 6, 18, 16, tzinfo=STHLM)) == date(2026, 6, 18)
    assert due_date(se, datetime(2026, 6, 19, 8, tzinfo=STHLM)) == date(2026, 6, 22)  # midsommarafton
    assert due_date(se, datetime(2026, 12, 24, 8, tzinfo=STHLM)) == date(2026, 12, 28)  # julafton → Monday
    assert due_date(se, datetime(2026, 12, 31, 8, tzinfo=STHLM)) == date(2027, 1, 4)  # nyårsafton, nyårsdagen
    assert not is_working_day(date(2026, 6, 6), "se")  # nationaldagen (a Saturday in 2026 anyway)
    assert not is_working_day(date(2027, 1, 6), "se")  # trettondedag jul, Wednesday
    assert swedish_holidays(2026)[date(2026, 10, 31)] == "Alla helgons dag"


def test_us_observed_days() -> None:
    fed_2021 = us_federal_holidays(2021)
    assert fed_2021[date(2021, 12, 31)] == "New Year's Day (observed)"  # 1 January 2022 was a Saturday
    assert fed_2021[date(2021, 7, 5)] == "Independence Day (observed)"  # 4 July 2021 was a Sunday
    assert date(2021, 6, 18) in fed_2021 and date(2021, 6, 18) not in washington_holidays(2021)
    fed_2026 = us_federal_holidays(2026)
    assert fed_2026[date(2026, 10, 12)] == "Columbus Day" and date(2026, 10, 12) not in washington_holidays(2026)
    assert date(2026, 11, 27) not in fed_2026
    assert fed_2026[date(2026, 1, 19)] == "Martin Luther King Jr. Day"
    assert fed_2026[date(2026, 5, 25)] == "Memorial Day"


def test_add_business_days() -> None:
    assert add_business_days(date(2026, 11, 20), 0, "us-wa") == date(2026, 11, 20)
    assert add_business_days(date(2026, 11, 21), 0, "us-wa") == date(2026, 11, 23)
    assert add_business_days(date(2026, 11, 20), 1, "none") == date(2026, 11, 23)
    assert add_business_days(date(2026, 11, 25), 1, "us-wa") == date(2026, 11, 30)
    with pytest.raises(ValueError):
        add_business_days(date(2026, 11, 20), -1, "se")
    with pytest.raises(ConfigError, match="unknown holiday calendar"):
        holidays("mars", 2026)


def test_calendar_clock_rolls_to_the_next_working_day(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "profiles:\n  - id: ten\n    name: Ten calendar days\n    clock: calendar\n"
        "    response_days: 10\n    holiday_calendar: us-federal\n    timezone: America/New_York\n"
    )
    ten = load_profiles(path)["ten"]
    assert due_date(ten, datetime(2026, 11, 2, tzinfo=EASTERN)) == date(2026, 11, 12)
    assert due_date(ten, datetime(2026, 11, 4, tzinfo=EASTERN)) == date(2026, 11, 16)  # Sat 14 → Mon 16


def test_custom_file_replaces_the_shipped_profiles(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(
        "profiles:\n  - id: se\n    name: Exempel kommun\n    response_days: 1\n"
        "    holiday_calendar: se\n    timezone: Europe/Stockholm\n    default_grounds: ['OSL 21:3']\n"
    )
    custom = load_profiles(path)
    assert list(custom) == ["se"] and custom["se"].response_days == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("profiles: [", "not valid YAML at line"),
        ("- id: se", "expected a mapping with only a 'profiles' list"),
        (
            "profiles:\n  - id: se\n    name: x\n    response_days: -1\n    holiday_calendar: se\n    timezone: UTC\n",
            "profile #1 (se): field 'response_days': Input should be greater than or equal to 0",
        ),
        (
            "profiles:\n  - id: se\n    name: x\n    response_days: 1\n    holiday_calendar: se\n"
            "    timezone: Mars/Olympus\n",
            "profile #1 (se): field 'timezone': unknown time zone 'Mars/Olympus'",
        ),
        (
            "profiles:\n  - id: se\n    name: x\n    response_days: 1\n    holiday_calendar: mars\n    timezone: UTC\n",
            "profile #1 (se): field 'holiday_calendar': unknown calendar 'mars'",
        ),
        (
            "profiles:\n  - {id: a, name: x, response_days: 1, holiday_calendar: se, timezone: UTC}\n"
            "  - {id: a, name: y, response_days: 2, holiday_calendar: se, timezone: UTC}\n",
            "profile #2 (a): duplicate id",
        ),
        (
            "profiles:\n  - {id: a, name: x, response_days: 1, holiday_calendar: se, timezone: UTC, colour: red}\n",
            "profile #1 (a): field 'colour': Extra inputs are not permitted",
        ),
    ],
)
def test_invalid_profiles_files_give_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_profiles(path)
    line = caught.value.one_line()
    assert message in line and line.startswith(str(path)) and "\n" not in line


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="profiles file not found"):
        load_profiles(tmp_path / "nope.yaml")
