"""The Chinese lunisolar calendar (农历), computed: the dates of 春节, 端午, 中秋 and 清明 of a Gregorian year, for the
provisional holiday calendar of a year whose State Council notice is not yet loaded (ccer.infra.calendar).

Method (the rules of GB/T 33661-2017 《农历的编算和颁行》, computed with textbook astronomy, not copied tables):
- new moons: the mean lunation with the periodic terms of the Moon's and Sun's anomalies and the Moon's argument of
  latitude (J. Meeus, *Astronomical Algorithms*, 2nd ed., ch. 49; the small planetary terms, < 30 s, are left out);
- the Sun's apparent longitude: the geometric mean longitude plus the equation of centre, nutation and aberration
  (Meeus ch. 25, low-accuracy series, ≈ 0.01°, i.e. about a quarter of an hour);
- times in Beijing time (UTC+8), terrestrial time less ΔT ≈ 69 s + 0.3 s/yr after 2020 (a few seconds either way);
- a month starts on the day of its new moon; the month holding the winter solstice (冬至, 270°) is month 11; when 13
  new moons separate two such months, the first month holding no principal term (中气, a multiple of 30°) is leap and
  keeps the previous month's number (GB/T 33661 §4–5).
The error budget (minutes) matters only when a new moon or a principal term falls within minutes of midnight; the test
suite checks the result against every 春节, 端午 and 中秋 of the packaged official calendars (2004–2026)."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache

_J2000 = 2451545.0
_UNIX_JD = 2440587.5  # 1970-01-01 00:00 UT
_BEIJING = 8 / 24


def _sin(deg: float) -> float:
    return math.sin(math.radians(deg))


def _new_moon_jde(k: int) -> float:
    """Julian ephemeris day of new moon number k (k = 0: 2000-01-06), Meeus ch. 49."""
    t = k / 1236.85
    jde = 2451550.09766 + 29.530588861 * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    m = 2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3
    mp = 201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3 - 0.000000058 * t**4
    f = 160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3 + 0.000000011 * t**4
    om = 124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3
    jde += (-0.40720 * _sin(mp) + 0.17241 * e * _sin(m) + 0.01608 * _sin(2 * mp) + 0.01039 * _sin(2 * f)
            + 0.00739 * e * _sin(mp - m) - 0.00514 * e * _sin(mp + m) + 0.00208 * e * e * _sin(2 * m)
            - 0.00111 * _sin(mp - 2 * f) - 0.00057 * _sin(mp + 2 * f) + 0.00056 * e * _sin(2 * mp + m)
            - 0.00042 * _sin(3 * mp) + 0.00042 * e * _sin(m + 2 * f) + 0.00038 * e * _sin(m - 2 * f)
            - 0.00024 * e * _sin(2 * mp - m) - 0.00017 * _sin(om) - 0.00007 * _sin(mp + 2 * m)
            + 0.00004 * _sin(2 * mp - 2 * f) + 0.00004 * _sin(3 * m) + 0.00003 * _sin(mp + m - 2 * f)
            + 0.00003 * _sin(2 * mp + 2 * f) - 0.00003 * _sin(mp + m + 2 * f) + 0.00003 * _sin(mp - m + 2 * f)
            - 0.00002 * _sin(mp - m - 2 * f) - 0.00002 * _sin(3 * mp + m) + 0.00002 * _sin(4 * mp))
    return jde


def _sun_longitude(jde: float) -> float:
    """The Sun's apparent longitude in degrees, Meeus ch. 25 (low accuracy)."""
    t = (jde - _J2000) / 36525
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t
    m = 357.52911 + 35999.05029 * t - 0.0001537 * t * t
    c = ((1.914602 - 0.004817 * t - 0.000014 * t * t) * _sin(m) + (0.019993 - 0.000101 * t) * _sin(2 * m)
         + 0.000289 * _sin(3 * m))
    om = 125.04 - 1934.136 * t
    return (l0 + c - 0.00569 - 0.00478 * _sin(om)) % 360


def _term_jde(longitude: float, near: float) -> float:
    """The instant the Sun reaches `longitude`, starting from a guess `near` (Newton steps, ~1°/day)."""
    jde = near
    for _ in range(50):
        diff = (longitude - _sun_longitude(jde) + 180) % 360 - 180
        jde += diff * 365.2422 / 360
        if abs(diff) < 1e-7:
            break
    return jde


def _delta_t_days(jde: float) -> float:
    year = 2000 + (jde - _J2000) / 365.25
    return (69.0 + max(0.0, year - 2020) * 0.3) / 86400


def _beijing_date(jde: float) -> date:
    jd_beijing = jde - _delta_t_days(jde) + _BEIJING
    return (datetime(1970, 1, 1) + timedelta(days=jd_beijing - _UNIX_JD)).date()


def _jde_of(day: date) -> float:
    return _UNIX_JD + (day - date(1970, 1, 1)).days


def solar_term(year: int, longitude: float) -> date:
    """The Beijing date the Sun reaches `longitude` in `year` (清明 = 15°, 冬至 = 270°)."""
    guess = _jde_of(date(year, 3, 21)) + ((longitude - 0) % 360) * 365.2422 / 360
    if guess > _jde_of(date(year, 12, 31)):
        guess -= 365.2422
    return _beijing_date(_term_jde(longitude, guess))


def _new_moons_from(day: date, count: int) -> list[date]:
    """Beijing dates of `count` consecutive new moons, the first on or after `day`."""
    k = math.floor((_jde_of(day) - 2451550.09766) / 29.530588861) - 1
    out: list[date] = []
    while len(out) < count:
        d = _beijing_date(_new_moon_jde(k))
        if d >= day:
            out.append(d)
        k += 1
    return out


def _winter_solstice(year: int) -> date:
    return _beijing_date(_term_jde(270, _jde_of(date(year, 12, 21))))


@lru_cache(maxsize=64)
def months(year: int) -> tuple[tuple[date, int, bool], ...]:
    """The lunar months that start from month 11 of the previous year's solstice to month 11 of this year's:
    (first day, month number, leap) in order (GB/T 33661 §5)."""
    out: list[tuple[date, int, bool]] = []
    ws0, ws1 = _winter_solstice(year - 1), _winter_solstice(year)
    starts = _new_moons_from(ws0 - timedelta(days=30), 16)
    # month 11 starts at the last new moon on or before the solstice
    i0 = max(i for i, d in enumerate(starts) if d <= ws0)
    i1 = max(i for i, d in enumerate(starts) if d <= ws1)
    span = starts[i0:i1 + 1]
    leap_year = (i1 - i0) == 13
    leap_done = False
    number = 11
    for j, first in enumerate(span[:-1]):
        nxt = span[j + 1]
        if j == 0:
            out.append((first, 11, False))
            continue
        has_principal = any(first <= _principal(first, n) < nxt for n in range(12))
        if leap_year and not leap_done and not has_principal:
            out.append((first, number, True))
            leap_done = True
            continue
        number = number % 12 + 1
        out.append((first, number, False))
    return tuple(out)


def _principal(near: date, n: int) -> date:
    """The Beijing date of principal term n (longitude 30·n°) nearest to `near`."""
    target = 30.0 * n
    lon = _sun_longitude(_jde_of(near))
    shift = ((target - lon + 180) % 360 - 180) * 365.2422 / 360
    return _beijing_date(_term_jde(target, _jde_of(near) + shift))


def spring_festival(year: int) -> date:
    """正月初一 of the lunar year that starts in Gregorian `year`."""
    return next(first for first, number, leap in months(year) if number == 1 and not leap)


def dragon_boat(year: int) -> date:
    """端午: the 5th of the 5th month."""
    return next(first for first, number, leap in months(year) if number == 5 and not leap) + timedelta(days=4)


def mid_autumn(year: int) -> date:
    """中秋: the 15th of the 8th month."""
    return next(first for first, number, leap in months(year) if number == 8 and not leap) + timedelta(days=14)


def qingming(year: int) -> date:
    """清明: the day the Sun reaches 15°."""
    return solar_term(year, 15.0)
