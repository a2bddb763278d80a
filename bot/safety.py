"""The free-text safety net and the memory of a red-flag yes. Pure: no clock, no I/O.

Safety net
    A ``safety:`` YAML file (flows/safety.yaml) lists, per language, words and phrases that
    suggest an emergency ("fell", "can't walk", "fever", ...), the negation words that cancel
    them when they come just before ("no fever", "I did not fall") and the words that end a
    clause ("but"). ``SafetyNet.alarm(text)`` says whether a typed text should be met with
    the urgent offer instead of "please tap a button". Translators add a language by adding a
    block to the file: nothing here is English-specific.

Matching, per language: the text is folded (case, curly apostrophes), split into clauses at
punctuation and at the ``breaks`` words, and into words. A phrase matches a run of words
(``numb*`` matches any word starting with "numb"). A match counts unless one of the
``negations`` comes within ``WINDOW`` (5) words before it in the same clause.

Red-flag memory
    When a step records a red flag (its ``red_flag`` effect), the engine keeps the yes step
    and the time of the event in the session answers (``RECENT_RED_FLAG``, ``RED_FLAG_AT``);
    ``expire`` drops them after ``RECALL_DAYS``. Flows test ``recent_red_flag`` like any other
    answer (hip.yaml reminds the person of it before any tip).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot import translations
from bot.authoring import DocumentKind, Loading
from bot.errors import FlowError
from bot.model import AnswerValue, Effect, Session, Text

RECENT_RED_FLAG = "recent_red_flag"  # the yes step of the latest red flag, e.g. rf_fall_yes
RED_FLAG_AT = "_red_flag_at"  # when it was said (event time, UTC seconds)
RECALL_DAYS = 30  # clinical.md: coming back within 30 days, the person is reminded
DAY = 86400.0
KIND = "safety"  # the key a safety file starts with
WINDOW = 5  # a negation up to this many words before a phrase cancels it

_CLAUSE = re.compile(r"[.,;:!?()\n]+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().translate(_APOSTROPHES))


@dataclass(frozen=True, slots=True)
class WordList:
    """One language's emergency phrases, negations and clause breaks (all folded)."""

    phrases: tuple[tuple[str, ...], ...]
    negations: tuple[str, ...]
    breaks: frozenset[str]
    _by_first: dict[str, tuple[tuple[str, ...], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # phrases by their first word ("*" for those starting with a prefix), so a text is
        # read once, not once per phrase
        index: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.phrases:
            key = "*" if phrase[0].endswith("*") else phrase[0]
            index.setdefault(key, []).append(phrase)
        object.__setattr__(self, "_by_first", {k: tuple(v) for k, v in index.items()})

    def clauses(self, parts: Iterable[list[str]]) -> Iterable[list[str]]:
        """The words of each punctuation-bounded part, split again at the break words."""
        for words in parts:
            clause: list[str] = []
            for word in words:
                if word in self.breaks:
                    yield clause
                    clause = []
                else:
                    clause.append(word)
            yield clause

    def alarm(self, text: str) -> bool:
        return self.alarm_in(_parts(text))

    def alarm_in(self, parts: list[list[str]]) -> bool:
        return any(self._clause_alarm(clause) for clause in self.clauses(parts))

    def _clause_alarm(self, words: list[str]) -> bool:
        prefixed = self._by_first.get("*", ())
        prefixes = tuple(phrase[0][:-1] for phrase in prefixed)
        for start, word in enumerate(words):
            candidates = self._by_first.get(word, ())
            if prefixes and word.startswith(prefixes):
                candidates += prefixed
            for phrase in candidates:
                end = start + len(phrase)
                if (
                    end <= len(words)
                    and _matches(phrase, words[start:end])
                    and not self._negated(words[max(0, start - WINDOW) : start])
                ):
                    return True
        return False

    def _negated(self, before: list[str]) -> bool:
        return any(_word_matches(negation, word) for word in before for negation in self.negations)


def _parts(text: str) -> list[list[str]]:
    """The folded words of a text, per part between punctuation marks."""
    folded = text.casefold().translate(_APOSTROPHES)
    return [_WORD.findall(part) for part in _CLAUSE.split(folded)]


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return word == pattern


def _matches(phrase: Sequence[str], words: Sequence[str]) -> bool:
    return all(_word_matches(p, w) for p, w in zip(phrase, words, strict=True))


@dataclass(frozen=True, slots=True)
class SafetyNet:
    """The safety net of a bundle: word lists per language and what the bot then says."""

    languages: Mapping[str, WordList]
    say: Text  # the urgent offer; may use {emergency_number} and {urgent_care}
    button: Text  # the button to the urgent screen
    urgent_note: Text  # added to every "I did not understand" reply
    route: str = "urgent"  # the command of the urgent screen (a route of the flows)
    source: str = ""

    def alarm(self, text: str) -> bool:
        """Whether ``text`` holds an emergency word in any language the bot speaks."""
        parts = _parts(text)
        return any(words.alarm_in(parts) for words in self.languages.values())


# ---------------------------------------------------------------- loading


def _texts(value: Any) -> Text | None:
    if isinstance(value, str) and value.strip():
        return Text({"en": value})
    if isinstance(value, dict) and isinstance(value.get("en"), str):
        return Text({str(k): str(v) for k, v in value.items()})
    return None


_RULE = {"phrases": "a phrase needs a word", "negations": "a negation is one word"}


def _pattern(raw: str) -> tuple[str, ...]:
    """A phrase as words to match; a trailing ``*`` lets its last word be a prefix."""
    words = _words(raw)
    if words and raw.rstrip().endswith("*"):
        words[-1] += "*"
    return tuple(words)


def _word_list(file: str, language: str, block: Any) -> tuple[WordList | None, list[FlowError]]:
    where = f"languages.{language}"
    if not isinstance(block, dict):
        return None, [FlowError(file, where, "give phrases, negations and breaks as lists")]
    problems: list[FlowError] = []
    lists: dict[str, list[str]] = {}
    for key in ("phrases", "negations", "breaks"):
        items = block.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            problems.append(FlowError(file, f"{where}.{key}", "must be a list of words"))
            items = []
        lists[key] = items
    extra = set(block) - {"phrases", "negations", "breaks"}
    if extra:
        problems.append(
            FlowError(
                file, where, f"unknown key(s) {sorted(extra)}: use phrases, negations, breaks"
            )
        )
    if not lists["phrases"]:
        problems.append(FlowError(file, f"{where}.phrases", "list at least one phrase"))
    phrases = [_pattern(phrase) for phrase in lists["phrases"]]
    negations = [_pattern(negation) for negation in lists["negations"]]
    for key, patterns in (("phrases", phrases), ("negations", negations)):
        for raw, pattern in zip(lists[key], patterns, strict=True):
            if not pattern or (key == "negations" and len(pattern) != 1):
                problems.append(FlowError(file, f"{where}.{key}", f"{raw!r}: {_RULE[key]}"))
    breaks = frozenset(w for b in lists["breaks"] for w in _words(b))
    kept = tuple(p[0] for p in negations if len(p) == 1)
    return WordList(tuple(p for p in phrases if p), kept, breaks), problems


def build_safety(file: str, document: Any) -> tuple[SafetyNet | None, list[FlowError]]:
    """The safety net from a ``safety:`` document, or the problems that stop it."""
    problems: list[FlowError] = []
    languages: dict[str, WordList] = {}
    blocks = document.get("languages") if isinstance(document, dict) else None
    if not isinstance(blocks, dict) or "en" not in blocks:
        return None, [FlowError(file, "languages", "give word lists per language, 'en' first")]
    for language, block in blocks.items():
        words, found = _word_list(file, str(language), block)
        problems += found
        if words is not None:
            languages[str(language)] = words
    texts = {key: _texts(document.get(key)) for key in ("say", "button", "urgent_note")}
    for key, text in texts.items():
        if text is None:
            problems.append(FlowError(file, key, "a text (or one per language, 'en' first)"))
    route = document.get("route", "urgent")
    if not isinstance(route, str) or not route.strip():
        problems.append(FlowError(file, "route", "the command of the urgent screen, e.g. urgent"))
    known = {"safety", "topic", "languages", "say", "button", "urgent_note", "route"}
    extra = set(document) - known
    if extra:
        problems.append(FlowError(file, "", f"unknown key(s) {sorted(extra)}"))
    if problems:
        return None, problems
    say, button, note = texts["say"], texts["button"], texts["urgent_note"]
    assert say is not None and button is not None and note is not None
    return SafetyNet(languages, say, button, note, str(route), file), []


def safety_texts(document: Any) -> list[tuple[str, Text]]:
    """(where, text) of every text of a safety document, for the placeholder check."""
    found = []
    for key in ("say", "urgent_note"):
        text = _texts(document.get(key)) if isinstance(document, dict) else None
        if text is not None:
            found.append((key, text))
    return found


def _read_safety(file: str, document: Any, loading: Loading) -> None:
    net, problems = build_safety(file, document)
    loading.problems += problems
    if net is not None:
        loading.keep(KIND, net)
    loading.texts.append((file, safety_texts(document)))
    loading.problems += _translation_problems(file, document)


def _translation_problems(file: str, document: Any) -> list[FlowError]:
    """Each text in every supported language, and a word list per supported language: the
    net must hear an emergency typed in any language the bot speaks."""
    if not isinstance(document, dict):
        return []
    problems: list[FlowError] = []
    for key in ("say", "button", "urgent_note"):
        text = _texts(document.get(key))
        if text is not None:
            problems += translations.check(file, key, text)
    blocks = document.get("languages")
    if isinstance(blocks, dict):
        problems += translations.check_word_lists(
            file, "languages", map(str, blocks), "emergency words"
        )
    return problems


def _check_safety(loading: Loading) -> None:
    """One safety file, whose route is a command some flow has."""
    nets: list[SafetyNet] = loading.kept(KIND)
    loading.problems += [
        FlowError(n.source, "safety", "only one safety file may be given") for n in nets[1:]
    ]
    commands = {route.command for flow in loading.flows.values() for route in flow.routes}
    loading.problems += [
        FlowError(n.source, "route", f"no flow has a route /{n.route}; known: {sorted(commands)}")
        for n in nets[:1]
        if n.route not in commands
    ]
    loading.bundle["safety"] = nets[0] if nets else None


SAFETY = DocumentKind(KIND, "the free-text safety net", _read_safety, _check_safety)


# ---------------------------------------------------------------- red-flag memory


def remember(session: Session, effects: Iterable[Effect], step: str, now: float) -> Session:
    """Keep the step of a red-flag yes and its time in the answers (``now``: the event's)."""
    if not any(effect.name == "red_flag" for effect in effects):
        return session
    answers = {**session.answers, RECENT_RED_FLAG: step, RED_FLAG_AT: int(now)}
    return replace(session, answers=answers)


def kept_answers(session: Session) -> dict[str, AnswerValue]:
    """The red-flag memory alone, for when the other answers are cleared."""
    return {k: v for k, v in session.answers.items() if k in (RECENT_RED_FLAG, RED_FLAG_AT)}


def expire(session: Session, now: float) -> Session:
    """Forget a red-flag yes older than ``RECALL_DAYS`` at ``now`` (0: no clock, keep it)."""
    at = session.answers.get(RED_FLAG_AT)
    if not now or not isinstance(at, int) or now - at <= RECALL_DAYS * DAY:
        return session
    answers = {k: v for k, v in session.answers.items() if k not in (RECENT_RED_FLAG, RED_FLAG_AT)}
    return replace(session, answers=answers)
