"""Wall-clock time: times of day, the time zones people type, and quiet hours.

Pure and clock-free: callers pass instants (UTC seconds). The engine uses it to read a typed
time zone (``match_timezone``), actions to check a time against quiet hours, and the
reminder rules (``bot.features.reminders``) to turn a person's wall-clock times into instants.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import HipbotError
from bot.model import AnswerValue


class RuleError(HipbotError, ValueError):
    """A time or a reminder rule that cannot work (no days, a zero interval, a time out of
    range)."""


# ---------------------------------------------------------------- times of day


def parse_hhmm(text: str) -> int:
    """'09:30' -> 570 (minutes after midnight)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None:
        raise RuleError(f"{text!r} is not a time like 09:30")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise RuleError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return hour * 60 + minute


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---------------------------------------------------------------- time zones


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def wall_to_utc(day: date, minutes: int, tz: ZoneInfo) -> float:
    """The instant of a local wall time. A time in a DST gap is read with the offset from
    before the jump (it lands after the jump); a time that happens twice is the first."""
    local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)
    return local.timestamp()


def local_of(instant: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(instant, tz)


# Cities and words people type that are not the last part of an IANA name.
_ALIASES = {
    "uk": "Europe/London",
    "england": "Europe/London",
    "scotland": "Europe/London",
    "wales": "Europe/London",
    "britain": "Europe/London",
    "ireland": "Europe/Dublin",
    "germany": "Europe/Berlin",
    "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "france": "Europe/Paris",
    "spain": "Europe/Madrid",
    "barcelona": "Europe/Madrid",
    "italy": "Europe/Rome",
    "milan": "Europe/Rome",
    "netherlands": "Europe/Amsterdam",
    "portugal": "Europe/Lisbon",
    "greece": "Europe/Athens",
    "poland": "Europe/Warsaw",
    "switzerland": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "austria": "Europe/Vienna",
    "sweden": "Europe/Stockholm",
    "norway": "Europe/Oslo",
    "denmark": "Europe/Copenhagen",
    "finland": "Europe/Helsinki",
    "turkey": "Europe/Istanbul",
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "philadelphia": "America/New_York",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "la": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "montreal": "America/Toronto",
    "ottawa": "America/Toronto",
    "calgary": "America/Edmonton",
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
    "brazil": "America/Sao_Paulo",
    "mexico": "America/Mexico_City",
    "india": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "china": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "japan": "Asia/Tokyo",
    "osaka": "Asia/Tokyo",
    "korea": "Asia/Seoul",
    "uae": "Asia/Dubai",
    "abu dhabi": "Asia/Dubai",
    "israel": "Asia/Jerusalem",
    "tel aviv": "Asia/Jerusalem",
    "egypt": "Africa/Cairo",
    "nigeria": "Africa/Lagos",
    "kenya": "Africa/Nairobi",
    "south africa": "Africa/Johannesburg",
    "cape town": "Africa/Johannesburg",
    "canberra": "Australia/Sydney",
    "new zealand": "Pacific/Auckland",
    "wellington": "Pacific/Auckland",
    "hawaii": "Pacific/Honolulu",
}
# Offsets that are not whole hours have no Etc/GMT zone: a fixed-offset city stands in.
_HALF_HOURS = {
    (3, 30): "Asia/Tehran",
    (4, 30): "Asia/Kabul",
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (6, 30): "Asia/Yangon",
    (9, 30): "Australia/Darwin",
    (-9, 30): "Pacific/Marquesas",
}
_AREAS = ("Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic", "Indian")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?:\s*[:.h]?\s*(\d{2}))?$")
_OFFSET_WORDS = re.compile(r"^utc_(plus|minus)_(\d{1,2})(?:_(\d{2}))?$")


@lru_cache(maxsize=1)
def _zone_index() -> tuple[dict[str, str], dict[str, str]]:
    """(lower-case IANA name -> name, city words -> name) from the zones this machine has."""
    names = sorted(available_timezones())
    exact = {name.casefold(): name for name in names}
    cities: dict[str, str] = {}
    # the main areas first and shorter names first, so "London" is Europe/London
    ranked = sorted(
        (n for n in names if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/"))),
        key=lambda n: (n.split("/")[0] not in _AREAS, n.count("/"), n),
    )
    for name in ranked:
        city = name.rsplit("/", 1)[1].replace("_", " ").casefold()
        cities.setdefault(city, name)
    for alias, name in _ALIASES.items():
        if name in names:
            cities.setdefault(alias, name)
    return exact, cities


def _offset_zone(sign: str, hours: int, minutes: int) -> str | None:
    if minutes == 0:
        if hours == 0:
            return "UTC"
        if (sign == "+" and hours <= 14) or (sign == "-" and hours <= 12):
            # POSIX names count the other way round: UTC+2 is Etc/GMT-2
            return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
        return None
    return _HALF_HOURS.get((hours if sign == "+" else -hours, minutes))


def match_timezone(text: str) -> str | None:
    """The IANA name a person means: a city ("Berlin", "new york", "Londn"), an IANA name,
    a UTC offset ("UTC+2", "-5", "+5:30") or an option value such as ``europe__london`` or
    ``utc_plus_5_30``. None when nothing fits well."""
    folded = " ".join(text.casefold().replace("’", "'").split()).strip(" .!")
    if not folded or len(folded) > 60:
        return None
    exact, cities = _zone_index()
    if folded in ("utc", "gmt", "z", "utc+0", "gmt+0", "utc 0", "0"):
        return "UTC"
    for candidate in (folded, folded.replace("__", "/"), folded.replace(" ", "_")):
        if candidate in exact:
            return exact[candidate]
    words = _OFFSET_WORDS.match(folded)
    if words:
        sign = "+" if words.group(1) == "plus" else "-"
        return _offset_zone(sign, int(words.group(2)), int(words.group(3) or 0))
    offset = _OFFSET.match(folded)
    if offset:
        return _offset_zone(offset.group(1), int(offset.group(2)), int(offset.group(3) or 0))
    city = folded.replace("_", " ").replace("-", " ")
    if city in cities:
        return cities[city]
    close = difflib.get_close_matches(city, list(cities), n=1, cutoff=0.85)
    return cities[close[0]] if close else None


def timezone_label(name: str) -> str:
    """'Europe/London' -> 'London (Europe/London)'; 'Etc/GMT-2' -> 'UTC+2'."""
    if name == "UTC":
        return "UTC"
    offset = re.fullmatch(r"Etc/GMT([+-])(\d+)", name)
    if offset:
        return f"UTC{'-' if offset.group(1) == '+' else '+'}{offset.group(2)}"
    city = name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city} ({name})"


# ---------------------------------------------------------------- quiet hours


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No proactive message from ``start`` to ``end`` (minutes; may wrap past midnight)."""

    start: int = 21 * 60
    end: int = 8 * 60

    @property
    def off(self) -> bool:
        return self.start == self.end

    def contains(self, minutes: int) -> bool:
        if self.off:
            return False
        if self.start < self.end:
            return self.start <= minutes < self.end
        return minutes >= self.start or minutes < self.end

    def describe(self, language: str = "en") -> str:
        """ "23:00 to 07:00" ("de 23:00 a 07:00", "23:00 bis 07:00"), or "off"."""
        from bot import texts  # the words live in flows/ (bot.texts reads them at first use)
        from bot.content import fill

        if self.off:
            return texts.QUIET_OFF.get(language)
        return fill(texts.QUIET_RANGE.get(language), start=hhmm(self.start), end=hhmm(self.end))


def quiet_from_answers(answers: Mapping[str, AnswerValue]) -> QuietHours | None:
    """Quiet hours the person chose, or None if they never changed the default."""
    start, end = answers.get("quiet_start"), answers.get("quiet_end")
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    return QuietHours(parse_hhmm(start), parse_hhmm(end))
