"""Translations that stay complete: every patient-facing text in every supported language.

The readers of each document kind (``bot.authoring.Builder``, the content kit, the safety
net) hand each text they build to ``check``. It reports, with the file, the path and the
language:

* a language of ``bot.languages.SUPPORTED`` the text lacks (a ``MissingTranslation``);
* a ``{placeholder}`` set that differs from the English one;
* markup (``<b>``, ``<i>``, links, ...) whose tags differ from the English ones;
* a variant longer than the limit Telegram puts on that kind of text, when given.

A missing translation is its own kind of problem: the runtime falls back to English, so
``load_bundle`` raises it only for the languages it is asked to require
(``hipbot validate`` requires every supported one, see ``required``). Readers whose problems
are also used on their own (a ``Builder``'s) hand missing translations to ``report``, which
passes them to the ``collecting`` that ``load_bundle`` runs. The other problems always
count, since they break the text a person reads.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from bot import languages as supported
from bot.errors import FlowError
from bot.model import DEFAULT_LANGUAGE, Text
from bot.telegram_html import HtmlProblem, check_html

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")  # the same rule as bot.content.PLACEHOLDER
_TAG = re.compile(r"<\s*([a-zA-Z][\w-]*)")  # an opening tag's name (<b>, <a href=...>)
FALLBACK_ONLY = (DEFAULT_LANGUAGE,)  # what the bot itself needs: it falls back to English
_SHOWN = 40  # characters of the English quoted in a message


class MissingTranslation(FlowError):
    """A text (or word list) that has no variant in ``language``."""

    def __init__(self, file: str, path: str, language: str, message: str) -> None:
        self.language = language
        super().__init__(file, path, message)


_COLLECTED: ContextVar[list[FlowError] | None] = ContextVar("missing_translations", default=None)


@contextmanager
def collecting() -> Iterator[list[FlowError]]:
    """Gather the missing translations readers ``report`` while a folder loads
    (``load_bundle``, which decides which languages count)."""
    found: list[FlowError] = []
    token = _COLLECTED.set(found)
    try:
        yield found
    finally:
        _COLLECTED.reset(token)


def report(problems: Iterable[FlowError]) -> list[FlowError]:
    """``problems`` without the missing translations, which go to the gathering under way.
    Code that builds one document on its own gathers none: the bot falls back to English."""
    kept: list[FlowError] = []
    collected = _COLLECTED.get()
    for problem in problems:
        if not isinstance(problem, MissingTranslation):
            kept.append(problem)
        elif collected is not None:
            collected.append(problem)
    return kept


def where(path: str, language: str) -> str:
    """The path of one language's variant: ``steps.menu > say (es)``."""
    return f"{path} ({language})" if path else f"({language})"


def check(
    file: str,
    path: str,
    text: Text,
    *,
    limit: int | None = None,
    languages: Sequence[str] | None = None,
) -> list[FlowError]:
    """Every translation problem of one text (see the module's docstring); ``languages``
    are those it must have (default: every supported one)."""
    languages = supported.SUPPORTED if languages is None else languages
    english = text.variants.get(DEFAULT_LANGUAGE, "")
    problems: list[FlowError] = []
    for language in languages:
        if language != DEFAULT_LANGUAGE and language not in text.variants:
            problems.append(_missing(file, path, language, english))
    for language, value in text.variants.items():
        if language == DEFAULT_LANGUAGE or not _sound(english):
            continue  # a broken English text is named by the text checks: fix it first
        problems += _compare(file, where(path, language), language, english, value)
    if limit is not None:
        problems += [
            FlowError(
                file,
                where(path, language),
                f"{len(value)} characters; Telegram allows {limit} here: shorten the "
                f"{_name(language)} text",
            )
            for language, value in text.variants.items()
            if len(value) > limit
        ]
    return problems


def _missing(file: str, path: str, language: str, english: str) -> MissingTranslation:
    shown = english if len(english) <= _SHOWN else english[: _SHOWN - 3].rstrip() + "..."
    return MissingTranslation(
        file,
        where(path, language),
        language,
        f"missing the {_name(language)} text: write the text as {{en: ..., {language}: ...}} "
        f"with a translation of {shown!r}",
    )


def _compare(file: str, at: str, language: str, english: str, value: str) -> list[FlowError]:
    problems = []
    want, got = set(_PLACEHOLDER.findall(english)), set(_PLACEHOLDER.findall(value))
    if want != got:
        problems.append(
            FlowError(
                file,
                at,
                f"placeholders differ from the English: en has {_names(want)}, {language} has "
                f"{_names(got)}; keep every {{name}} as it is and translate only the words "
                "around it",
            )
        )
    want_tags, got_tags = _tags(english), _tags(value)
    if want_tags != got_tags and _sound(value):
        problems.append(
            FlowError(
                file,
                at,
                f"markup differs from the English: en has {_counted(want_tags)}, {language} has "
                f"{_counted(got_tags)}; use the same tags (<b>, <i>, links) in every language",
            )
        )
    return problems


def _sound(value: str) -> bool:
    """Not blank, and valid Telegram HTML (else the text checks name what is wrong)."""
    if not value.strip():
        return False
    try:
        check_html(_PLACEHOLDER.sub("x", value))
    except HtmlProblem:
        return False
    return True


def _tags(value: str) -> Counter[str]:
    return Counter(name.lower() for name in _TAG.findall(value))


def _names(names: Iterable[str]) -> str:
    found = sorted(names)
    return ", ".join(f"{{{name}}}" for name in found) if found else "none"


def _counted(tags: Counter[str]) -> str:
    if not tags:
        return "none"
    return ", ".join(
        f"<{name}>" if count == 1 else f"<{name}> x{count}" for name, count in sorted(tags.items())
    )


def _name(language: str) -> str:
    native = supported.NATIVE_NAMES.get(language)
    return f"{native} ({language})" if native else f"'{language}'"


def check_word_lists(
    file: str, path: str, present: Iterable[str], what: str, languages: Sequence[str] | None = None
) -> list[FlowError]:
    """A ``MissingTranslation`` for each supported language without a word list ``what``."""
    languages = supported.SUPPORTED if languages is None else languages
    have = set(present)
    return [
        MissingTranslation(
            file,
            where(path, language),
            language,
            f"no {what} in {_name(language)}: add '{language}:' under '{path}' with the "
            "words people type in that language",
        )
        for language in languages
        if language not in have
    ]


def required(problems: Iterable[FlowError], languages: Iterable[str]) -> list[FlowError]:
    """``problems`` without the missing translations of languages not in ``languages``."""
    wanted = set(languages)
    return [
        problem
        for problem in problems
        if not isinstance(problem, MissingTranslation) or problem.language in wanted
    ]


def gaps(problems: Iterable[FlowError], languages: Sequence[str]) -> str:
    """The size of the gap per language: ``es: 412 texts missing, de: 0``."""
    counts = Counter(p.language for p in problems if isinstance(p, MissingTranslation))
    parts = []
    for language in languages:
        if language == DEFAULT_LANGUAGE:
            continue
        count = counts[language]
        plural = "" if count == 1 else "s"
        parts.append(f"{language}: {count} text{plural} missing" if count else f"{language}: 0")
    return ", ".join(parts)
