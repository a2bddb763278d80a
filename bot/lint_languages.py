"""The reading-level lint for languages other than English: a formula made for each.

English is measured in ``bot.lint`` (Flesch-Kincaid grade <= 6 and Reading Ease >= 70 per
topic, grade <= 8 per message: clinical.md's "a 12-year-old can read it", US grade 6).
Formulas calibrated on English count too few syllables per word in Spanish and German and
misjudge them, so each language gets formulas made for it, with targets that mean the same
school level (the end of primary school, about age 12):

Spanish (textstat counts syllables with pyphen's Spanish dictionary):
  * Fernández Huerta (0-100, higher is easier; Flesch's scale re-fitted to Spanish):
    70-80 "bastante fácil" is the band of English Reading Ease 70-80, grade 6-7. Topic >= 70,
    like English; a message >= 60 (the band of Flesch-Kincaid grade 8-9).
  * Szigriszt-Pazos (INFLESZ scale, higher is easier): 65-80 "bastante fácil", which its
    authors tie to primary school (up to age 12), 55-65 "normal" to ages 12-16. Topic >= 65.

German (syllables from pyphen's German dictionary):
  * Wiener Sachtextformel, variant 1 (for non-fiction; a school grade, 4 to 15, lower is
    easier): Flesch-Kincaid grade 6 ~ WSTF <= 6 per topic, grade 8 ~ WSTF <= 8 per message.
  * Amstad's Flesch Reading Ease (textstat's ``flesch_reading_ease`` with German
    constants, 0-100, higher is easier): 70-80 "ziemlich leicht", ages 12-13, as English.
    Topic >= 70.

SMOG has no German or Spanish calibration and is left to English. Adding a language:
give it a ``Scale`` in ``SCALES`` (textstat has formulas for fr, it, nl, ru, pl, ...); until
then ``hipbot lint`` names the language as unmeasured. Texts are measured topic by topic,
like English, and each message on its own; phone fit (words on a screen) per language too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.lint_message import MAX_WORDS, Message, words

MESSAGE_MIN_WORDS = 10
"""Fewer words than this and a message is not scored on its own: these formulas weigh word
length and sentence length over a text, and on a fragment ("Erledigt.", "Zeitzone: {tz}.")
one long compound decides the score. Short messages still count in their topic's score."""


@dataclass(frozen=True, slots=True)
class Formula:
    """One readability formula for one language, with its targets."""

    name: str
    measure: Callable[[str], float]
    topic_target: float
    message_target: float | None = None  # None: only topics (formulas need many sentences)
    lower_is_easier: bool = False

    def fails(self, score: float, target: float) -> bool:
        return score > target if self.lower_is_easier else score < target

    def rule(self, target: float) -> str:
        return f"{'at most' if self.lower_is_easier else 'at least'} {target:g}"


@dataclass(frozen=True, slots=True)
class Scale:
    """How one language is measured: its textstat language and its formulas."""

    language: str
    textstat_language: str
    formulas: tuple[Formula, ...]


def _fernandez_huerta(text: str) -> float:
    import textstat

    return float(textstat.fernandez_huerta(text))


def _szigriszt_pazos(text: str) -> float:
    import textstat

    return float(textstat.szigriszt_pazos(text))


def _wiener(text: str) -> float:
    import textstat

    return float(textstat.wiener_sachtextformel(text, 1))


def _amstad(text: str) -> float:
    import textstat

    return float(textstat.flesch_reading_ease(text))  # German constants under set_lang("de")


SCALES: dict[str, Scale] = {
    "es": Scale(
        "es",
        "es",
        (
            Formula("Fernández Huerta", _fernandez_huerta, 70.0, 60.0),
            Formula("Szigriszt-Pazos", _szigriszt_pazos, 65.0),
        ),
    ),
    "de": Scale(
        "de",
        "de",
        (
            Formula("Wiener Sachtextformel", _wiener, 6.0, 8.0, lower_is_easier=True),
            Formula("Amstad", _amstad, 70.0),
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class LanguageTopic:
    """One topic of one language: its messages, words and a score per formula."""

    language: str
    topic: str
    messages: int
    words: int
    scores: tuple[tuple[str, float], ...]
    failed: bool


@contextmanager
def _language(code: str) -> Iterator[None]:
    import textstat

    textstat.set_lang(code)
    try:
        yield
    finally:
        textstat.set_lang("en")


def measure(scale: Scale, messages: list[Message]) -> tuple[list[LanguageTopic], list[str]]:
    """Score each topic of ``messages`` (all in ``scale.language``) and each message; the
    problems name the language, the formula, the score and the target."""
    topics: dict[str, list[Message]] = {}
    for message in messages:
        topics.setdefault(message.topic, []).append(message)
    found: list[LanguageTopic] = []
    problems: list[str] = []
    with _language(scale.textstat_language):
        for topic in sorted(topics):
            group = topics[topic]
            text = "\n".join(m.text for m in group)
            scores = []
            failed = False
            for formula in scale.formulas:
                score = formula.measure(text)
                scores.append((formula.name, score))
                if formula.fails(score, formula.topic_target):
                    failed = True
                    hardest = _hardest(formula, group)
                    problems.append(
                        f"topic {topic} ({scale.language}): {formula.name} {score:.1f}; the "
                        f"target is {formula.rule(formula.topic_target)}: use shorter words and "
                        f"sentences (hardest message: {hardest.where})"
                    )
            for message in group:
                for formula in scale.formulas:
                    target = formula.message_target
                    if target is None or words(message.text) < MESSAGE_MIN_WORDS:
                        continue
                    score = formula.measure(message.text)
                    if formula.fails(score, target):
                        failed = True
                        problems.append(
                            f"topic {topic}: message {message.where}: {formula.name} "
                            f"{score:.1f}; the target is {formula.rule(target)}: "
                            f"{message.text[:70]!r}"
                        )
            words_in = sum(words(m.text) for m in group)
            found.append(
                LanguageTopic(scale.language, topic, len(group), words_in, tuple(scores), failed)
            )
    return found, problems


def _hardest(formula: Formula, group: list[Message]) -> Message:
    scored = [(formula.measure(m.text), m) for m in group]
    pick = max if formula.lower_is_easier else min
    return pick(scored, key=lambda pair: pair[0])[1]


def phone_fit(messages: list[Message]) -> list[str]:
    """Messages of one language over about one phone screen of words."""
    return [
        f"{m.where}: {words(m.text)} words; a phone shows about {MAX_WORDS} on one screen: "
        "shorten it or split it into two messages"
        for m in messages
        if words(m.text) > MAX_WORDS
    ]


def format_tables(topics: list[LanguageTopic]) -> list[str]:
    """One small table per language: topic, messages, words, each formula's score."""
    lines: list[str] = []
    for language, scale in SCALES.items():
        rows = [t for t in topics if t.language == language]
        if not rows:
            continue
        names = [f.name for f in scale.formulas]
        targets = [
            f"{'<=' if f.lower_is_easier else '>='}{f.topic_target:g}" for f in scale.formulas
        ]
        header = f"{language + ' topic':<14}{'msgs':>5}{'words':>7}" + "".join(
            f"{name[:22]:>24}" for name in names
        )
        lines += ["", header, f"{'(targets)':<26}" + "".join(f"{t:>24}" for t in targets)]
        lines.append("-" * len(header))
        for row in rows:
            lines.append(
                f"{row.topic:<14}{row.messages:>5}{row.words:>7}"
                + "".join(f"{score:>24.1f}" for _, score in row.scores)
                + f"  {'FAIL' if row.failed else 'ok'}"
            )
    return lines
