"""PII guard and value parsers: property-based tests (hypothesis) for NHS-number detection and
date/time parsing, plus the identifying-header rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub._errors import PIIRejected
from istvhub.ingest.ages import age_bands_from_text, age_bands_from_years
from istvhub.ingest.parsing import parse_dates, parse_times
from istvhub.ingest.pii import (
    check_headers,
    is_valid_nhs_number,
    nhs_check_digit,
    pii_reason,
)
from istvhub.pii import scrub_series


def scrub_text(s: pd.Series) -> tuple[pd.Series, int]:
    out, n, _kinds = scrub_series(s)
    return out, n


def _with_check(first9: str) -> str | None:
    c = nhs_check_digit(first9)
    return None if c is None else first9 + str(c)


nine_digits = st.integers(100_000_000, 999_999_999).map(str)
valid_nhs = nine_digits.map(_with_check).filter(lambda x: x is not None)
separators = st.sampled_from(["", " ", "-"])
words = st.lists(
    st.sampled_from(["o/s", "high", "st", "pt's", "home", "nr", "stn", "jct", "brixton", "rd"]),
    max_size=4,
).map(" ".join)


def _fmt(n: str, sep: str) -> str:
    return f"{n[:3]}{sep}{n[3:6]}{sep}{n[6:]}"


@settings(deadline=None)  # no timing assertions in tests
@given(valid_nhs, separators, words, words)
def test_valid_nhs_numbers_are_scrubbed(n, sep, before, after):
    text = f"{before} {_fmt(n, sep)} {after}".strip()
    out, count = scrub_text(pd.Series([text]))
    assert count >= 1
    assert n not in out.iloc[0].replace(" ", "").replace("-", "")
    assert "[removed]" in out.iloc[0]


@settings(deadline=None)  # no timing assertions in tests
@given(nine_digits, st.integers(0, 9))
def test_nhs_checksum_rule(first9, last):
    n = first9 + str(last)
    assert is_valid_nhs_number(n) == (nhs_check_digit(first9) == last)


@settings(deadline=None)  # no timing assertions in tests
@given(nine_digits, st.integers(0, 9), words)
def test_invalid_checksum_ten_digits_kept(first9, last, w):
    n = first9 + str(last)
    if nhs_check_digit(first9) == last:
        return
    text = f"{w} ref {n}"
    out, count = scrub_text(pd.Series([text]))
    assert count == 0 and out.iloc[0] == text


@settings(deadline=None)  # no timing assertions in tests
@given(words)
def test_clean_text_untouched(w):
    out, count = scrub_text(pd.Series([w, None]))
    assert count == 0
    assert out.iloc[0] == w and pd.isna(out.iloc[1])


@pytest.mark.parametrize(
    "text",
    [
        "call 07700 900123",
        "tel 020 7946 0123",
        "+44 7700 900123",
        "dob 03/04/1988",
        "born 12 March 1990",
        "D.O.B. 1/2/03",
    ],
)
def test_phones_and_birth_dates_scrubbed(text):
    out, count = scrub_text(pd.Series([f"outside tesco {text} sw2"]))
    assert count >= 1 and "[removed]" in out.iloc[0]
    assert "tesco" in out.iloc[0]


@pytest.mark.parametrize(
    "header",
    [
        "NHS_Number",
        "nhs no",
        "NHSNumber",
        "NHS",
        "Patient_Name",
        "Forename",
        "SURNAME",
        "first name",
        "Name",
        "DOB",
        "Date_Of_Birth",
        "Person_Birth_Date",
        "Address Line 1",
        "Patient_Address",
        "Patient_Postcode",
        "Postcode",
        "Home postcode",
        "Telephone",
        "Mobile number",
        "Email",
        "Local_Patient_Identifier",
        "MRN",
        "Hospital Number",
    ],
)
def test_identifying_headers(header):
    assert pii_reason(header) is not None
    with pytest.raises(PIIRejected) as exc:
        check_headers(["Arrival_Date", header], "f.csv")
    assert exc.value.field == header and exc.value.file == "f.csv"


@pytest.mark.parametrize(
    "header",
    [
        "Site_Code_of_Treatment",
        "Attendance_Identifier",
        "EC_Ident",
        "Assault_Location_Description",
        "Incident postcode",
        "Location postcode",
        "Site name",
        "Venue name",
        "Age_At_Arrival",
        "Age_Band",
        "Sex",
        "Der_Postcode_LSOA_Code",
        "Where did it happen",
        "Ref",
        "EC_Chief_Complaint_SNOMED_CT",
        "AttendanceRef",
        "Street",
        "Incident address",
    ],
)
def test_non_identifying_headers(header):
    assert pii_reason(header) is None


# --- dates and times ---------------------------------------------------------------------------

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
DATE_STYLES = {
    "iso": lambda d: d.isoformat(),
    "uk": lambda d: d.strftime("%d/%m/%Y"),
    "uk_dash": lambda d: d.strftime("%d-%m-%Y"),
    "mon": lambda d: d.strftime("%d-%b-%Y"),
    "mon_upper": lambda d: d.strftime("%d-%b-%Y").upper(),
    "long": lambda d: d.strftime("%d %B %Y"),
    "compact": lambda d: d.strftime("%Y%m%d"),
    "serial": lambda d: str((d - date(1899, 12, 30)).days),
}


@settings(max_examples=150, deadline=None)
@given(st.lists(dates, min_size=1, max_size=8), st.sampled_from(sorted(DATE_STYLES)))
def test_dates_round_trip(ds, style):
    s = pd.Series([DATE_STYLES[style](d) for d in ds])
    out, invalid = parse_dates(s, dayfirst=True)
    assert not invalid.any()
    assert [x.date() for x in out] == ds


@settings(deadline=None)  # no timing assertions in tests
@given(dates, st.integers(0, 23), st.integers(0, 59))
def test_datetimes_round_trip(d, h, m):
    dt = datetime(d.year, d.month, d.day, h, m)
    s = pd.Series([dt.strftime("%Y-%m-%d %H:%M:%S"), dt.strftime("%d/%m/%Y %H:%M")])
    out, invalid = parse_dates(s)
    assert not invalid.any() and list(out) == [pd.Timestamp(dt)] * 2


@settings(deadline=None)  # no timing assertions in tests
@given(dates)
def test_ambiguous_day_month_follows_layout(d):
    text = pd.Series([d.strftime("%d/%m/%Y")])
    uk, _ = parse_dates(text, dayfirst=True)
    assert uk.iloc[0].date() == d
    us, inv = parse_dates(pd.Series([d.strftime("%m/%d/%Y")]), dayfirst=False)
    assert not inv.iloc[0] and us.iloc[0].date() == d


@settings(deadline=None)  # no timing assertions in tests
@given(
    st.sampled_from(
        [
            "2025-02-30",
            "2025-13-01",
            "31/02/2025",
            "not a date",
            "2025-03-32",
            "32/01/2025",
            "1/1/1/1",
            "99999999",
        ]
    )
)
def test_impossible_dates_invalid(v):
    out, invalid = parse_dates(pd.Series([v]))
    assert invalid.iloc[0] and pd.isna(out.iloc[0])


@settings(deadline=None)  # no timing assertions in tests
@given(st.sampled_from(["", " ", "n/k", "Unknown", "NULL", "-", "not recorded"]))
def test_missing_tokens_are_missing_not_invalid(v):
    out, invalid = parse_dates(pd.Series([v]))
    assert not invalid.iloc[0] and pd.isna(out.iloc[0])
    t, tinv = parse_times(pd.Series([v]))
    assert not tinv.iloc[0] and pd.isna(t.iloc[0])


TIME_STYLES = {
    "hh:mm": lambda h, m, s: f"{h:02d}:{m:02d}",
    "h:mm": lambda h, m, s: f"{h}:{m:02d}",
    "hh:mm:ss": lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}",
    "hhmm": lambda h, m, s: f"{h:02d}{m:02d}",
    "hh.mm": lambda h, m, s: f"{h:02d}.{m:02d}",
    "datetime": lambda h, m, s: f"2025-01-02 {h:02d}:{m:02d}:{s:02d}",
    "excel": lambda h, m, s: f"{(h * 3600 + m * 60 + s) / 86400:.10f}",
}


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.sampled_from(sorted(TIME_STYLES))
)
def test_times_round_trip(h, m, s, style):
    secs = s if style in ("hh:mm:ss", "datetime", "excel") else 0
    text = TIME_STYLES[style](h, m, secs)
    out, invalid = parse_times(pd.Series([text]), midnight_unknown=True)
    assert not invalid.iloc[0]
    if h == m == secs == 0:
        assert pd.isna(out.iloc[0])  # 00:00 = time not known
    else:
        assert out.iloc[0] == f"{h:02d}:{m:02d}:{secs:02d}"


@settings(deadline=None)  # no timing assertions in tests
@given(st.sampled_from(["24:00", "12:60", "25:10", "noon-ish", "7pmish", "1:2:3:4"]))
def test_impossible_times_invalid(v):
    _out, invalid = parse_times(pd.Series([v]))
    assert invalid.iloc[0]


def test_midnight_kept_when_not_unknown():
    out, _ = parse_times(pd.Series(["00:00"]), midnight_unknown=False)
    assert out.iloc[0] == "00:00:00"


@settings(deadline=None)  # no timing assertions in tests
@given(st.integers(0, 120))
def test_age_years_to_band(age):
    bands, unrec = age_bands_from_years(pd.Series([str(age)]))
    b = bands.iloc[0]
    assert not unrec.iloc[0]
    lo, _, hi = b.replace("+", "-200").partition("-")
    assert int(lo) <= age <= int(hi)


@pytest.mark.parametrize(
    "text, band",
    [
        ("18-24", "18-24"),
        ("18 to 24", "18-24"),
        ("18–24", "18-24"),
        ("65+", "65+"),
        ("65 and over", "65+"),
        ("Under 16", "0-15"),
        ("25-29", "25-34"),
        ("16-24", "unknown"),
        ("Not known", "unknown"),
        ("40", "35-44"),
    ],
)
def test_age_band_spellings(text, band):
    bands, _ = age_bands_from_text(pd.Series([text]))
    assert bands.iloc[0] == band


def test_excel_serial_with_time_fraction():
    d = date(2025, 6, 7)
    serial = (d - date(1899, 12, 30)).days + 0.75
    out, invalid = parse_dates(pd.Series([repr(serial)]))
    assert not invalid.iloc[0]
    assert out.iloc[0] == pd.Timestamp(d) + timedelta(hours=18)
