"""The content kit's building blocks: what every reader of a YAML document kind uses.

A document kind is a YAML file that starts with its own key (``flow:``, ``catalog:``,
``audiences:``, ``policy:``, ...). The loader (``bot.loader``) reads every file of a folder,
asks ``document_kind`` which kind it is and hands it to that kind's reader. Flows and tips
catalogs are read by the loader itself; every other kind is a ``DocumentKind`` declared next
to the code that uses it and registered with the loader in ``bot.kinds``.

A reader turns a parsed document into model objects with the tools here, so that every kind
reports problems the same way (``file > breadcrumb: message and a fix``):

* ``read_yaml``, ``yaml_files``, ``document_kind``: find and parse files (duplicate keys and
  YAML syntax mistakes are named with their line);
* ``validation_errors``: a pydantic ``ValidationError`` as ``FlowError``s with breadcrumbs;
* ``Builder``: texts, labels, conditions and targets with their paths, collecting problems;
  ``ShapeError`` is a shape the schema allows but the model does not (``Builder.condition``);
* ``check_texts`` / ``check_labels``: placeholders, Telegram HTML and lengths of texts;
* ``did_you_mean`` and ``breadcrumb`` for messages.

A kind itself is a ``DocumentKind``: its key, a ``read`` hook called per file and a ``check``
hook called once the flows are known, both working on the ``Loading`` in progress
(``checked_after_flows`` makes the common one). ``register`` hands kinds to the loader;
``rely_on`` hands it ``CodeNeeds``, the step and answer ids Python code relies on.

This module imports only the model, the schema, the errors, the text-key kit
(``bot.content``) and the HTML checker: feature modules build on it, never the reverse.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from bot import schema, translations
from bot.content import KIND as TEXTS_KIND
from bot.content import PLACEHOLDER
from bot.errors import FlowError, HipbotError
from bot.model import (
    AllOf,
    Always,
    AnswerTest,
    AnyOf,
    Catalog,
    Condition,
    Flow,
    Message,
    NotOf,
    Target,
    Text,
)
from bot.telegram_html import ALLOWED_TAGS, MAX_TEXT, HtmlProblem, check_html

# placeholders every text may use: filled from the settings (``bot.settings``)
CONFIG_PLACEHOLDERS = frozenset({"emergency_number", "urgent_care"})
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


# ---------------------------------------------------------------- reading files


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"'{key}' appears twice (first on line {seen[key]}): "
                "each step id or key may be used once; rename or merge one of them",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; raise FlowError naming the file and line on bad syntax."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FlowError(str(path), "", f"cannot read the file: {error}") from error
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise FlowError(str(path), "", f"{where}{problem}{_yaml_hint(error)}") from error


def _yaml_hint(error: yaml.YAMLError) -> str:
    """A sentence an editor can act on, for the YAML mistakes people make most."""
    problem = str(getattr(error, "problem", None) or error)
    context = str(getattr(error, "context", None) or "")
    opened = getattr(error, "context_mark", None)
    if "mapping values are not allowed" in problem:
        return " (a text with ': ' in it needs quotes around it)"
    if "'\\t'" in problem:
        return " (indent with spaces, not tabs)"
    if "quoted scalar" in context and opened is not None:
        return f" (the quote opened on line {opened.line + 1} is never closed)"
    if "expected <block end>" in problem or "expected <block end>" in context:
        return " (check the indentation: keys of the same step must start in the same column)"
    if "flow sequence" in context or "flow mapping" in context:
        return " (a list in [ ] or a mapping in { } is not closed, or a text in it needs quotes)"
    return ""


def yaml_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every .yaml/.yml file under the given files and folders, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


def document_kind(document: Any) -> str | None:
    """The key that says what a parsed document is (``flow``, ``audiences``, ...), or None."""
    if isinstance(document, dict):
        for kind in kind_keys():
            if kind in document:
                return kind
    return None


# ---------------------------------------------------------------- errors


def breadcrumb(location: Sequence[str | int]) -> str:
    """('steps', 'pain', 'buttons', 2, 'go') -> 'steps.pain > buttons[2].go'."""
    text = ""
    previous: str | int | None = None
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif previous in ("steps", "moved", "tags", "with") or isinstance(previous, int):
            text += f".{part}"
        else:
            text += f" > {part}" if text else part
        previous = part
    return text


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The note ``(did you mean 'x'?)`` for the closest of ``choices``, or an empty text."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _field_names(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


_ALL_KEYS = set().union(
    *(
        _field_names(m)
        for m in vars(schema).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m is not BaseModel
    )
)


_EXPECTED = {
    "int_parsing": "a whole number, like 3",
    "int_type": "a whole number, like 3",
    "int_from_float": "a whole number, like 3",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "list_type": "a list: one '- ' item per line, or [a, b]",
    "dict_type": "a mapping of names to values, like {label: Yes, go: next_step}",
    "model_type": "a mapping of names to values, like {answer: pain, at_least: 7}",
    "model_attributes_type": "a mapping of names to values, like {answer: pain, at_least: 7}",
}


# pydantic names the members of a plain union in the error location ("str", "dict[str,str]")
_UNION_MEMBER = re.compile(r"^(str|int|bool|float)$|\[")


def _unquoted(value: Any) -> str:
    """Why a value that was meant as text is not text: YAML read it as something else."""
    if isinstance(value, bool):
        return ": YAML reads yes, no, on and off without quotes as true or false"
    if isinstance(value, (int, float)):
        return ": YAML reads it as a number without quotes"
    return ""


_TIME_OF_DAY = get_args(schema.TimeOfDay)[1].pattern  # the schema's pattern for 09:30


def validation_errors(file: str, error: ValidationError) -> list[FlowError]:
    """A pydantic error about one document as problems an editor can act on: each with the
    file, the breadcrumb of the bad part and what is expected there."""
    problems = []
    located: set[str] = set()
    for item in error.errors():
        location = [
            part
            for part in item["loc"]
            if isinstance(part, int) or (part[:1].islower() and not _UNION_MEMBER.search(part))
        ]
        if breadcrumb(location) in located:
            continue  # the same value failed each member of a union: say it once
        located.add(breadcrumb(location))
        key = str(location[-1]) if location else ""
        value = item.get("input")
        match item["type"]:
            case "extra_forbidden":
                message = f"unknown key '{key}'{did_you_mean(key, _ALL_KEYS)}"
            case "missing":
                message = f"'{key}' is required here"
            case "string_pattern_mismatch" if item.get("ctx", {}).get("pattern") == _TIME_OF_DAY:
                message = f"{value!r} is not a time of day like 09:30 (00:00 to 23:59)"
            case "string_pattern_mismatch":
                message = (
                    f"{value!r} is not a valid id or target: use lower case letters, digits "
                    "and _, starting with a letter (a target in another flow is 'flow:step')"
                )
            case "union_tag_invalid" | "union_tag_not_found":
                message = f"{value!r} has the wrong shape here"
            case "string_type":
                message = f"should be a text in quotes (got {value!r}{_unquoted(value)})"
            case kind if kind in _EXPECTED:
                message = f"should be {_EXPECTED[kind]} (got {value!r})"
            case _:
                said = item["msg"].rstrip(".").removeprefix("Input ")
                message = f"{said[:1].lower()}{said[1:]} (got {value!r})"
        problems.append(FlowError(file, breadcrumb(location), message))
    return problems


# ---------------------------------------------------------------- building the model


@dataclass
class Builder:
    """Turns one validated document into model objects, collecting problems with paths."""

    file: str
    problems: list[FlowError] = field(default_factory=list)
    texts: list[tuple[str, Text]] = field(default_factory=list)  # (path, text) for checks
    labels: list[tuple[str, Text]] = field(default_factory=list)  # plain-text ones

    def problem(self, path: Sequence[str | int], message: str) -> None:
        self.problems.append(FlowError(self.file, breadcrumb(path), message))

    def label(self, raw: schema.Text, path: Sequence[str | int]) -> Text:
        """A button label or command description: Telegram shows these as plain text."""
        text = self.text(raw, path, plain=True)
        self.labels.append((breadcrumb(path), text))
        return text

    def text(self, raw: schema.Text, path: Sequence[str | int], plain: bool = False) -> Text:
        variants = {"en": raw} if isinstance(raw, str) else dict(raw)
        if "en" not in variants:
            self.problem(path, f"missing the 'en' text (found only {sorted(variants)})")
            variants["en"] = next(iter(variants.values()), "")
        for language in variants:
            if not LANGUAGE.match(language):
                self.problem(path, f"'{language}' is not a language code like 'en' or 'de'")
        text = Text(variants)
        self.problems += translations.report(translations.check(self.file, breadcrumb(path), text))
        if not plain:
            self.texts.append((breadcrumb(path), text))
        return text

    def messages(self, raw: Any, path: Sequence[str | int]) -> tuple[Message, ...]:
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        found = []
        for index, item in enumerate(items):
            where = [*path, index] if isinstance(raw, list) else list(path)
            if isinstance(item, schema.IfTextDoc):
                found.append(Message(self.text(item.text, where), self.condition(item.if_)))
            else:
                found.append(Message(self.text(item, where)))
        return tuple(found)

    def condition(self, raw: Any) -> Condition:
        match raw:
            case bool():
                return Always(raw)
            case schema.AllOfDoc():
                return AllOf(tuple(self.condition(item) for item in raw.all))
            case schema.AnyOfDoc():
                return AnyOf(tuple(self.condition(item) for item in raw.any))
            case schema.NotOfDoc():
                return NotOf(self.condition(raw.not_))
        given = {
            op: value
            for op, value in (
                ("equals", raw.equals),
                ("not_equals", raw.not_equals),
                ("in", raw.in_),
                ("has", raw.has),
                ("has_any", raw.has_any),
                ("at_least", raw.at_least),
                ("at_most", raw.at_most),
                ("answered", raw.answered),
            )
            if value is not None or op in raw.model_fields_set
        }
        if len(given) != 1:
            ops = "equals, not_equals, in, has, has_any, at_least, at_most, answered"
            raise ShapeError(
                f"a test on '{raw.answer}' needs exactly one of {ops} (found {sorted(given)})"
            )
        op, value = next(iter(given.items()))
        return AnswerTest(raw.answer, op, value)  # type: ignore[arg-type]

    def target(self, raw: str, flow: str) -> Target:
        if ":" in raw:
            other, step = raw.split(":", 1)
            return Target(other, step or "")
        return Target(flow, raw)


class ShapeError(HipbotError, ValueError):
    """A document the schema accepts but the model cannot use (a test with two operators):
    the reader reports it with the path of the part it was building."""


# ---------------------------------------------------------------- text checks


def check_texts(file: str, texts: list[tuple[str, Text]], saved: set[str]) -> list[FlowError]:
    """Texts a person reads: not empty, known placeholders only (``saved`` answers and the
    configuration's), valid Telegram HTML, short enough for one message."""
    problems = []
    known = saved | CONFIG_PLACEHOLDERS
    for path, text in texts:
        for language, value in text.variants.items():
            where = f"{path} ({language})" if len(text.variants) > 1 else path
            if not value.strip():
                problems.append(FlowError(file, where, "the text is empty"))
                continue
            for name in PLACEHOLDER.findall(value):
                if name not in known:
                    hint = did_you_mean(name, known) or f" (known: {', '.join(sorted(known))})"
                    problems.append(
                        FlowError(file, where, f"unknown placeholder '{{{name}}}'{hint}")
                    )
            bare = PLACEHOLDER.sub("x", value)
            if "{" in bare or "}" in bare:
                problems.append(
                    FlowError(
                        file,
                        where,
                        "a '{' or '}' that is not a placeholder like {emergency_number}",
                    )
                )
            try:
                visible = check_html(bare)
            except HtmlProblem as error:
                problems.append(FlowError(file, where, f"invalid Telegram HTML: {error}"))
                continue
            if len(visible) > MAX_TEXT:
                problems.append(
                    FlowError(
                        file,
                        where,
                        f"text is {len(visible)} characters; Telegram allows {MAX_TEXT}: split it into steps",
                    )
                )
    return problems


_TAG_NAMES = "|".join([*ALLOWED_TAGS, "br", "p", "div"])
_MARKUP = re.compile(rf"</?(?:{_TAG_NAMES})\b[^>]*>|&[a-zA-Z]+;|&#\d+;", re.IGNORECASE)


def check_labels(file: str, labels: list[tuple[str, Text]]) -> list[FlowError]:
    """Button labels and command descriptions are plain text: no HTML, no placeholders."""
    problems = []
    for path, text in labels:
        for language, value in text.variants.items():
            where = f"{path} ({language})" if len(text.variants) > 1 else path
            if not value.strip():
                problems.append(FlowError(file, where, "the label is empty"))
            markup = _MARKUP.search(value)
            if markup:
                problems.append(
                    FlowError(
                        file,
                        where,
                        f"{markup.group(0)!r}: button labels are plain text and Telegram would "
                        "show it as typed; write the label without HTML (& and < are fine)",
                    )
                )
            for name in PLACEHOLDER.findall(value):
                problems.append(
                    FlowError(
                        file,
                        where,
                        f"placeholder '{{{name}}}' is not filled in on buttons; "
                        "put it in the message above the buttons",
                    )
                )
    return problems


# ---------------------------------------------------------------- document kinds


@dataclass
class Loading:
    """What the loader has read of one folder so far; the kinds' readers add to it.

    ``read`` hooks run file by file and may add problems, texts to check and their own
    state (``found``); ``check`` hooks run after every flow and catalog is built and checked,
    when ``saved`` holds every answer name a flow, an action or the engine saves. What a kind
    puts in ``bundle`` becomes a field of the loaded ``Bundle`` (``policy``, ``safety``).
    """

    flows: dict[str, Flow] = field(default_factory=dict)
    catalogs: dict[str, Catalog] = field(default_factory=dict)
    problems: list[FlowError] = field(default_factory=list)
    # (file, [(breadcrumb, text)]): checked for placeholders against ``saved``, HTML, length
    texts: list[tuple[str, list[tuple[str, Text]]]] = field(default_factory=list)
    saved: set[str] = field(default_factory=set)
    found: dict[str, list[Any]] = field(default_factory=dict)  # kind key -> what it read
    bundle: dict[str, Any] = field(default_factory=dict)

    def keep(self, kind: str, item: Any) -> None:
        """Remember something a kind read, for its ``check`` hook."""
        self.found.setdefault(kind, []).append(item)

    def kept(self, kind: str) -> list[Any]:
        return self.found.get(kind, [])


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """A kind of YAML document: files that start with ``key``.

    ``read(file, document, loading)`` is called for each such file in file order;
    ``check(loading)`` once, after the flows are checked (kinds in the order they were
    registered). A kind with neither is known but left alone (transcripts: ``hipbot test``).
    """

    key: str
    description: str  # "clinic audiences": what a file of this kind holds
    read: Callable[[str, Any, Loading], None] | None = None
    check: Callable[[Loading], None] | None = None


# The loader's own kinds come first (``document_kind`` takes the first key a document has);
# the content kit's ``texts:`` comes last. ``register`` adds the others in between.
BUILT_IN = (
    DocumentKind("flow", "a flow"),
    DocumentKind("catalog", "a tips catalog"),
)
_REGISTERED: dict[str, DocumentKind] = {}


def register(*kinds: DocumentKind) -> None:
    """Make the loader read ``kinds`` (``bot.kinds`` registers every kind hipbot has)."""
    for kind in kinds:
        known = _REGISTERED.get(kind.key)
        if known is not None and known != kind:
            raise ValueError(f"document kind '{kind.key}' is registered twice, differently")
        _REGISTERED[kind.key] = kind


def registered() -> tuple[DocumentKind, ...]:
    """The kinds registered with ``register``, in that order."""
    return tuple(_REGISTERED.values())


def kind_keys() -> list[str]:
    """Every key that starts a document hipbot knows, in the order ``document_kind`` tries."""
    return [*(kind.key for kind in BUILT_IN), *_REGISTERED, TEXTS_KIND]


# ---------------------------------------------------------------- ids code relies on


@dataclass(frozen=True, slots=True)
class CodeNeeds:
    """Step and answer ids of one flow that Python code goes to or reads. The loader checks,
    when the flow set has that flow, that each step is still there and that some step saves
    each answer: renaming one in YAML alone would break the code without a word."""

    code: str  # who relies on them, for the message: "bot.features.reminders.chat"
    why: str  # what it does with them: "the /reminders buttons go there"
    flow: str
    steps: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()


_NEEDS: list[CodeNeeds] = []


def rely_on(*needs: CodeNeeds) -> None:
    """Have the loader check ``needs`` (``bot.kinds`` lists every one)."""
    _NEEDS.extend(need for need in needs if need not in _NEEDS)


def code_needs() -> tuple[CodeNeeds, ...]:
    return tuple(_NEEDS)


def check_code_needs(loading: Loading) -> None:
    """A problem for each step or answer some code relies on that the flows lack."""
    for need in code_needs():
        flow = loading.flows.get(need.flow)
        if flow is None:
            continue  # a flow set without the flow: the feature has nothing to go to
        for step in need.steps:
            if step not in flow.steps:
                loading.problems.append(
                    FlowError(
                        flow.source,
                        "steps",
                        f"no step '{step}' in flow "
                        f"'{flow.id}', but {need.code} relies on it ({need.why}): keep the "
                        "step, or change the code with it",
                    )
                )
        for answer in need.answers:
            if answer not in loading.saved:
                loading.problems.append(
                    FlowError(
                        flow.source,
                        "",
                        f"no step saves the answer '{answer}', but {need.code} reads it "
                        f"({need.why}): keep 'save: {answer}', or change the code with it",
                    )
                )


def checked_after_flows(
    key: str, description: str, check: Callable[[str, Any, set[str]], list[FlowError]]
) -> DocumentKind:
    """A kind whose documents are checked once the flows are known:
    ``check(file, document, saved)`` gets every answer name the flows save."""

    def read(file: str, document: Any, loading: Loading) -> None:
        loading.keep(key, (file, document))

    def check_all(loading: Loading) -> None:
        for file, document in loading.kept(key):
            loading.problems.extend(check(file, document, loading.saved))

    return DocumentKind(key, description, read, check_all)
