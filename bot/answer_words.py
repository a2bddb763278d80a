"""The words a typed answer may use, per language: yes and no, numbers written out, "none",
"and", and the ways of saying a time ("a las 8 y media", "8:30 Uhr", "halb 9").

The engine's parsers (``bot.engine``) read a person's text with their session's language
*and* English (many people type English words whatever their settings). A new language adds
its entries here; ``tests/test_answer_words.py`` checks each one the engine understands.
Words are folded: lower case, accents kept (``fold`` below also tries them without).
"""

from __future__ import annotations

import re
import unicodedata

from bot.model import DEFAULT_LANGUAGE

# "ok" or "sure" is not taken as yes: at "Do you have a fever?" it would be a false alarm
YES: dict[str, frozenset[str]] = {
    "en": frozenset({"yes", "y", "yeah", "yep", "yes please", "true", "ja", "si"}),
    "es": frozenset({"sí", "si", "sí, claro", "claro que sí"}),
    "de": frozenset({"ja", "jo", "jawohl", "ja bitte", "ja, bitte"}),
}
NO: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "n", "nope", "no thanks", "false", "nein"}),
    "es": frozenset({"no", "no, gracias", "no gracias"}),
    "de": frozenset({"nein", "nö", "ne", "nee", "nein danke", "nein, danke"}),
}
NUMBERS: dict[str, dict[str, int]] = {  # 0 to 10 written out
    "en": dict(
        zip(
            ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
            range(11),
            strict=True,
        )
    ),
    "es": {
        **dict(
            zip(
                ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho"),
                range(9),
                strict=True,
            )
        ),
        "nueve": 9,
        "diez": 10,
        "una": 1,
        "un": 1,
    },
    "de": {
        **dict(
            zip(
                ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht"),
                range(9),
                strict=True,
            )
        ),
        "neun": 9,
        "zehn": 10,
        "ein": 1,
        "eine": 1,
        "fuenf": 5,
    },
}
OUT_OF: dict[str, tuple[str, ...]] = {  # "7 out of 10"
    "en": ("out of", "of"),
    "es": ("de", "sobre"),
    "de": ("von",),
}
NONE: dict[str, frozenset[str]] = {  # a several-choice question answered with nothing
    "en": frozenset({"0", "none", "nothing", "none of these", "no"}),
    "es": frozenset({"ninguno", "ninguna", "nada", "ninguna de estas", "no"}),
    "de": frozenset({"keine", "keins", "nichts", "keine davon", "nein"}),
}
AND: dict[str, tuple[str, ...]] = {"en": ("and",), "es": ("y", "e"), "de": ("und",)}
# a time: words before the hour ("a las 8", "um 8"), after it ("8 Uhr"), and halves/quarters
TIME_BEFORE: dict[str, tuple[str, ...]] = {
    "en": ("at",),
    "es": ("a las", "a la", "las", "la"),
    "de": ("um",),
}
TIME_AFTER: dict[str, tuple[str, ...]] = {
    "en": (),  # "10 o'clock" is asked again: morning or evening? (tests/test_engine_answers)
    "es": ("en punto", "horas", "hs", "h"),
    "de": ("uhr", "h"),
}
TIME_PLUS: dict[str, dict[str, int]] = {  # "8 y media" -> 8:30
    "en": {},
    "es": {"y media": 30, "y cuarto": 15},
    "de": {},
}
TIME_HALF_BEFORE: dict[str, tuple[str, ...]] = {"en": (), "es": (), "de": ("halb",)}  # halb 9


def _both(language: str) -> list[str]:
    """The person's language, then English (the order things are tried in)."""
    return [language, DEFAULT_LANGUAGE] if language != DEFAULT_LANGUAGE else [language]


def fold(text: str) -> str:
    return text.casefold().strip(" .!¡¿?")


def plain(text: str) -> str:
    """Without accents: "sí" -> "si", "fünf" -> "funf"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def yes_no(text: str, language: str) -> bool | None:
    """True for a yes word, False for a no word, in the language or English; else None."""
    folded = fold(text)
    for code in _both(language):
        if folded in YES.get(code, ()) or plain(folded) in YES.get(code, ()):
            return True
        if folded in NO.get(code, ()):
            return False
    return None


def number(text: str, language: str) -> str:
    """``text`` with a written-out number (0-10) as digits and "of 10" in English words:
    "siete de 10" -> "7 out of 10", "sieben" -> "7"; anything else as it was."""
    folded = fold(text)
    for code in _both(language):
        words = NUMBERS.get(code, {})
        head, _, rest = folded.partition(" ")
        if head in words:
            folded = f"{words[head]} {rest}".strip()
        for phrase in OUT_OF.get(code, ()):
            folded = re.sub(rf"^(\S+)\s+{re.escape(phrase)}\s+(10|{_ten(code)})$", r"\1/10", folded)
    return folded


def _ten(language: str) -> str:
    return next(w for w, n in NUMBERS[language].items() if n == 10)


def none_words(language: str) -> frozenset[str]:
    return frozenset().union(*(NONE.get(code, frozenset()) for code in _both(language)))


def and_words(language: str) -> tuple[str, ...]:
    return tuple(w for code in _both(language) for w in AND.get(code, ()))


def time_text(text: str, language: str) -> str:
    """A typed time in the digits-and-am/pm form the engine reads: "a las 8 y media" ->
    "8:30", "8:30 Uhr" -> "8:30", "halb 9" -> "8:30", "um 7" -> "7"."""
    folded = fold(text)
    for code in _both(language):
        for word in TIME_BEFORE.get(code, ()):
            if folded.startswith(f"{word} "):
                folded = folded[len(word) + 1 :].strip()
                break
        for word in TIME_AFTER.get(code, ()):
            if folded.endswith(f" {word}") or (len(word) == 1 and folded.endswith(word)):
                folded = folded[: -len(word)].strip()
                break
        for phrase, minutes in TIME_PLUS.get(code, {}).items():
            if folded.endswith(f" {phrase}"):
                hour = number(folded[: -len(phrase)].strip(), code)
                folded = f"{hour}:{minutes:02d}" if hour.isdigit() else folded
        for word in TIME_HALF_BEFORE.get(code, ()):
            if folded.startswith(f"{word} "):
                hour = number(folded[len(word) + 1 :].strip(), code)
                if hour.isdigit() and 1 <= int(hour) <= 24:
                    folded = f"{(int(hour) - 1) % 24}:30"
    written = number(folded, language)
    return written if written.isdigit() else folded
