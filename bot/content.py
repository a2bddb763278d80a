"""The content kit: patient-facing texts that Python code says, kept in ``flows/`` YAML.

Flows carry their own texts. Everything else a person reads (the engine's re-asks, reminder
messages, ...) is a *text set*: Python declares the keys it looks up, with the placeholders
each may use and whether it is a button label; a ``texts:`` file gives the words::

    texts: engine                  # the set (declared below, in Python)
    topic: engine                  # groups the texts for the reading-level lint
    items:
      reask_integer: "Please type a whole number from {min} to {max}."
      done: {en: "Done", de: "Fertig"}      # any text: plain English or per language
      sitting:                              # a rotation (``many``): one per sending
        - "Time for a break. Stand up and walk for a minute."

The loader checks each file against its set: an unknown or missing key, a placeholder the
key does not take, bad Telegram HTML, HTML or a placeholder in a button label, and a set
given twice are named with the file and the path. Code looks texts up by key
(``bundle.kit.text(texts.DONE)``). A folder of flows without a file for some set (a test
fixture) gets the one from the flows folder in use (``shipped_kit``).

This module depends only on the model, the errors, the settings and the HTML checker: the
loader and ``bot.texts`` import it, never the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot import translations
from bot.errors import FlowError
from bot.model import DEFAULT_LANGUAGE, Text
from bot.telegram_html import HtmlProblem, check_html

KIND = "texts"  # the key a texts file starts with
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|&[a-zA-Z]+;|&#\d+;")
MAX_LABEL = 64  # a label may be a button: Telegram's clients cut longer ones off

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
RawText = str | dict[str, str]


# ---------------------------------------------------------------- declarations (Python)


@dataclass(frozen=True, slots=True)
class TextKey:
    """One text code looks up: ``set.name``, the placeholders it may use, and its kind."""

    set: str
    name: str
    placeholders: frozenset[str] = frozenset()
    label: bool = False  # a few words, no sentence (a button, a heading): plain text, short
    many: bool = False  # a rotation: a list of texts, one per use

    @property
    def id(self) -> str:
        return f"{self.set}.{self.name}"

    def get(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The shipped text, for code that has no bundle at hand (prefer ``Kit.text``)."""
        return shipped_kit().text(self).get(language)


@dataclass
class TextSet:
    """The keys one part of the code looks up, declared next to that code."""

    id: str
    keys: dict[str, TextKey] = field(default_factory=dict)

    def key(
        self, name: str, *placeholders: str, label: bool = False, many: bool = False
    ) -> TextKey:
        declared = TextKey(self.id, name, frozenset(placeholders), label, many)
        self.keys[name] = declared
        return declared


SETS: dict[str, TextSet] = {}


def text_set(set_id: str) -> TextSet:
    """The set ``set_id``, declared once (modules call this at import time)."""
    return SETS.setdefault(set_id, TextSet(set_id))


def declared_sets() -> dict[str, TextSet]:
    """Every set declared so far. ``bot.texts`` declares them all: whoever builds a kit
    imports it first (the loader and the lint do; a ``TextKey`` in hand means it is)."""
    return SETS


# ---------------------------------------------------------------- the loaded kit


@dataclass(frozen=True, slots=True)
class Kit:
    """Every loaded text, by ``set.name``; a rotation is a tuple of texts."""

    texts: Mapping[str, Text | tuple[Text, ...]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # set id -> file

    def text(self, key: TextKey) -> Text:
        found = self.texts.get(key.id)
        if isinstance(found, Text):
            return found
        if isinstance(found, tuple) and found:
            return found[0]
        raise KeyError(f"no text '{key.id}': add it to the '{key.set}' texts file in flows/")

    def rotation(self, key: TextKey) -> tuple[Text, ...]:
        found = self.texts.get(key.id)
        if isinstance(found, tuple) and found:
            return found
        if isinstance(found, Text):
            return (found,)
        raise KeyError(f"no texts '{key.id}': add them to the '{key.set}' texts file in flows/")

    def merged(self, other: Kit) -> Kit:
        """This kit, with the sets only ``other`` has added."""
        missing = {s for s in other.sources if s not in self.sources}
        texts = {k: v for k, v in other.texts.items() if k.split(".", 1)[0] in missing}
        return Kit(
            {**self.texts, **texts},
            {**self.sources, **{s: other.sources[s] for s in missing}},
        )


class TextsDoc(BaseModel):
    """A ``texts:`` file, as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    texts: Ident
    topic: Ident | None = None  # for the reading-level lint; default: the set's id
    note: str | None = None  # for editors; never shown
    items: dict[str, RawText | list[RawText]] = Field(min_length=1)


def build_kit(documents: Iterable[tuple[str, Any]]) -> tuple[Kit, list[FlowError]]:
    """The kit of ``(file, parsed YAML)`` texts documents, and every problem found."""
    sets = declared_sets()
    texts: dict[str, Text | tuple[Text, ...]] = {}
    sources: dict[str, str] = {}
    problems: list[FlowError] = []
    for file, document in documents:
        try:
            doc = TextsDoc.model_validate(document)
        except ValidationError as error:
            problems += [_shape_problem(file, item) for item in error.errors()]
            continue
        declared = sets.get(doc.texts)
        if declared is None:
            known = ", ".join(sorted(sets))
            problems.append(FlowError(file, "texts", f"unknown set '{doc.texts}' (known: {known})"))
            continue
        if doc.texts in sources:
            problems.append(
                FlowError(file, "texts", f"set '{doc.texts}' is also in {sources[doc.texts]}")
            )
            continue
        sources[doc.texts] = file
        found, set_problems = _build_set(file, declared, doc)
        texts.update(found)
        problems += set_problems
    return Kit(texts, sources), problems


def _shape_problem(file: str, item: Any) -> FlowError:
    location = [str(part) for part in item["loc"] if not str(part).startswith(("str", "dict"))]
    path = " > ".join(location)
    if item["type"] == "extra_forbidden":
        return FlowError(
            file, path, "unknown key: a texts file has texts, topic, note and items (the texts)"
        )
    if item["type"] == "string_type" and isinstance(item.get("input"), bool):
        return FlowError(
            file,
            path,
            "YAML reads yes, no, on and off without quotes as true or false: put the key "
            "or text in quotes",
        )
    if item["type"] == "missing":
        return FlowError(file, path, f"'{location[-1]}' is required here")
    return FlowError(file, path, f"{item['msg']} (got {item.get('input')!r})")


def _build_set(
    file: str, declared: TextSet, doc: TextsDoc
) -> tuple[dict[str, Text | tuple[Text, ...]], list[FlowError]]:
    found: dict[str, Text | tuple[Text, ...]] = {}
    problems: list[FlowError] = []
    for name, raw in doc.items.items():
        path = f"items.{name}"
        key = declared.keys.get(name)
        if key is None:
            problems.append(
                FlowError(
                    file, path, f"unknown key '{name}' in set '{doc.texts}'{_hint(name, declared)}"
                )
            )
            continue
        if key.many != isinstance(raw, list):
            want = "a list of texts (one per use)" if key.many else "one text, not a list"
            problems.append(FlowError(file, path, f"should be {want}"))
            continue
        if isinstance(raw, list):
            if not raw:
                problems.append(FlowError(file, path, "the list is empty: give at least one text"))
            rotation = []
            for index, item in enumerate(raw):
                text, found_problems = _text(file, f"{path}[{index}]", item, key)
                rotation.append(text)
                problems += found_problems
            found[key.id] = tuple(rotation)
        else:
            text, found_problems = _text(file, path, raw, key)
            found[key.id] = text
            problems += found_problems
    for name in declared.keys:
        if name not in doc.items:
            problems.append(
                FlowError(
                    file, "items", f"missing key '{name}': the code looks up '{doc.texts}.{name}'"
                )
            )
    return found, problems


def _hint(name: str, declared: TextSet) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(declared.keys), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _text(file: str, path: str, raw: RawText, key: TextKey) -> tuple[Text, list[FlowError]]:
    variants = {DEFAULT_LANGUAGE: raw} if isinstance(raw, str) else dict(raw)
    problems = []
    if DEFAULT_LANGUAGE not in variants:
        problems.append(
            FlowError(file, path, f"missing the 'en' text (found only {sorted(variants)})")
        )
        variants[DEFAULT_LANGUAGE] = next(iter(variants.values()), "")
    for language, value in variants.items():
        where = f"{path} ({language})" if len(variants) > 1 else path
        if not _LANGUAGE.match(language):
            problems.append(FlowError(file, path, f"'{language}' is not a language code like 'en'"))
        problems += _check_value(file, where, value, key)
    text = Text(variants)
    problems += translations.check(file, path, text, limit=MAX_LABEL if key.label else None)
    return text, problems


def _check_value(file: str, where: str, value: str, key: TextKey) -> list[FlowError]:
    if not value.strip():
        return [FlowError(file, where, "the text is empty")]
    problems = []
    allowed = ", ".join(sorted(key.placeholders)) or "none"
    for name in PLACEHOLDER.findall(value):
        if name not in key.placeholders:
            problems.append(
                FlowError(
                    file, where, f"unknown placeholder '{{{name}}}': '{key.id}' takes {allowed}"
                )
            )
    bare = PLACEHOLDER.sub("x", value)
    if key.label:
        markup = _MARKUP.search(value)
        if markup:
            problems.append(
                FlowError(
                    file, where, f"{markup.group(0)!r}: a button label is plain text, no HTML"
                )
            )
        return problems
    if "{" in bare or "}" in bare:
        problems.append(FlowError(file, where, "a '{' or '}' that is not a placeholder"))
    try:
        check_html(bare)
    except HtmlProblem as error:
        problems.append(FlowError(file, where, f"invalid Telegram HTML: {error}"))
    return problems


def fill(text: str, **values: str) -> str:
    """``text`` with each ``{name}`` replaced by its value (escape HTML values first)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def missing_sets(kit: Kit) -> list[str]:
    return sorted(set(declared_sets()) - set(kit.sources))


# ---------------------------------------------------------------- the shipped kit


def kit_documents(paths: Iterable[Path]) -> list[tuple[str, Any]]:
    """``(file, document)`` of every texts file among ``paths`` (YAML files)."""
    found = []
    for path in paths:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and KIND in document:
            found.append((str(path), document))
    return found


@lru_cache(maxsize=1)
def shipped_kit() -> Kit:
    """The kit of the flows folder in use (``$HIPBOT_FLOWS``, ./flows, or the one beside
    the package), with any set it lacks taken from the one beside the package. Read once
    per process: code looks texts up often, and the folder does not change while it runs."""
    from bot.settings import REPO_FLOWS, default_flows_dir

    folder = Path(default_flows_dir()).resolve()
    kit = folder_kit(str(folder))
    if folder != REPO_FLOWS.resolve() and REPO_FLOWS.is_dir():
        kit = kit.merged(folder_kit(str(REPO_FLOWS.resolve())))
    return kit


@lru_cache(maxsize=8)
def folder_kit(folder: str) -> Kit:
    """The texts files of one folder, read once (``hipbot validate`` reports their problems;
    here a broken set is left out, so lookups name the missing key)."""
    kit, _ = build_kit(kit_documents(sorted(Path(folder).glob("texts*.yaml"))))
    return kit
