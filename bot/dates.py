"""Dates and times as a person reads them, in their language (Babel's locale data).

One place for every date the bot writes to a person (reminders, ``/reminders``, check-ins,
``/mydata``, progress)::

    day_and_time(moment, "es")  -> "lunes, 7 de diciembre, 08:00"
    day_and_time(moment, "de")  -> "Montag, 7. Dezember, 08:00"
    day_and_time(moment, "en")  -> "Monday, 7 December, 08:00"

The patterns are fixed per language (CLDR's own long formats add the year and differ between
regions); the names of days and months come from Babel. Times are on the 24-hour clock in
every language. ``moment`` is already in the person's time zone (``bot.localtime``).
"""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_date, format_time, get_day_names

from bot.model import DEFAULT_LANGUAGE

# language -> (Babel locale, day pattern, short date pattern); CLDR pattern letters
_FORMATS: dict[str, tuple[str, str, str]] = {
    "en": ("en_GB", "EEEE, d MMMM", "d MMM y"),
    "es": ("es_ES", "EEEE, d 'de' MMMM", "d MMM y"),
    "de": ("de_DE", "EEEE, d. MMMM", "d. MMM y"),
}
_CLOCK = "HH:mm"


def _format(language: str) -> tuple[str, str, str]:
    return _FORMATS.get(language, _FORMATS[DEFAULT_LANGUAGE])


def clock(moment: datetime | time, language: str = DEFAULT_LANGUAGE) -> str:
    """The time of day: "08:00" (24-hour, every language)."""
    return format_time(moment, _CLOCK, locale=_format(language)[0])


def day(moment: date, language: str = DEFAULT_LANGUAGE) -> str:
    """The weekday and date: "Monday, 7 December", "lunes, 7 de diciembre"."""
    locale, pattern, _ = _format(language)
    return format_date(moment, pattern, locale=locale)


def day_and_time(moment: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """ "Monday, 7 December, 08:00", "lunes, 7 de diciembre, 08:00", "Montag, 7. Dezember, 08:00"."""
    return f"{day(moment, language)}, {clock(moment, language)}"


def short_date(moment: date, language: str = DEFAULT_LANGUAGE) -> str:
    """A date with its year, short: "7 Dec 2026", "7 dic 2026", "7. Dez. 2026"."""
    locale, _, pattern = _format(language)
    return format_date(moment, pattern, locale=locale)


def weekday(index: int, language: str = DEFAULT_LANGUAGE, short: bool = False) -> str:
    """Monday is 0: "Monday"/"lunes"/"Montag"; ``short``: "Mon"/"lun"/"Mo"."""
    locale = _format(language)[0]
    names = (
        get_day_names("abbreviated", locale=locale)
        if short
        else get_day_names("wide", locale=locale)
    )
    name = names[index]
    return str(name).rstrip(".")
