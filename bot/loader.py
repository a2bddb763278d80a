"""YAML -> validated runtime model. Every problem is found before anything runs.

``load_bundle(paths)`` reads flow files and tip catalogs, checks each against the schema
(``bot.schema``), builds the frozen model (``bot.model``), then checks every cross-reference
across files. All problems are collected and raised together as ``FlowErrors``; each names
the file, a breadcrumb path and the bad value, and suggests a fix where it can.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from bot import callbacks, content, schema
from bot.errors import FlowError, FlowErrors
from bot.model import ActionCall as ActionCallModel
from bot.model import (
    AllOf,
    Always,
    AnswerTest,
    AnyOf,
    Bundle,
    Catalog,
    Condition,
    Flow,
    Input,
    Message,
    NotOf,
    Route,
    Step,
    Target,
    Text,
    Tip,
    answers_named,
)
from bot.model import Branch as BranchModel
from bot.model import Button as ButtonModel
from bot.model import Option as OptionModel
from bot.model import TipsRef as TipsRefModel
from bot.telegram_html import ALLOWED_TAGS, MAX_TEXT, HtmlProblem, check_html

MAX_BUTTONS = 100  # python-telegram-bot's assumption; Telegram documents none
MAX_LABEL = 64  # longer labels are cut off in Telegram's clients
MAX_AUTO_HOPS = 25
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
CONFIG_PLACEHOLDERS = frozenset({"emergency_number", "urgent_care"})
# answers the engine keeps itself (bot.safety): flows may test them like saved answers
ENGINE_ANSWERS = frozenset({"recent_red_flag"})
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
KINDS = {"flow": "a flow", "catalog": "a tips catalog", "transcript": "a transcript test"}
KINDS["audiences"] = "clinic audiences"  # checked by bot.clinics, after the flows
KINDS["followups"] = "a follow-up sequence"  # checked by bot.reminders, after the flows
KINDS["policy"] = "the privacy policy"  # built by bot.privacy, cross-checked with the flows
KINDS["safety"] = "the free-text safety net"  # built by bot.safety
KINDS[content.KIND] = "texts code looks up by key"  # built by bot.content


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
    if isinstance(document, dict):
        for kind in KINDS:
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


def _action_answers() -> frozenset[str]:
    """Answers that actions save (``bot.actions.ACTION_ANSWERS``): flows may use them."""
    from bot.actions import ACTION_ANSWERS

    return ACTION_ANSWERS


def did_you_mean(word: str, choices: Iterable[str]) -> str:
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


def _from_validation(file: str, error: ValidationError) -> list[FlowError]:
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
class _Builder:
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
            if isinstance(item, schema.IfText):
                found.append(Message(self.text(item.text, where), self.condition(item.if_)))
            else:
                found.append(Message(self.text(item, where)))
        return tuple(found)

    def condition(self, raw: Any) -> Condition:
        match raw:
            case bool():
                return Always(raw)
            case schema.AllOf():
                return AllOf(tuple(self.condition(item) for item in raw.all))
            case schema.AnyOf():
                return AnyOf(tuple(self.condition(item) for item in raw.any))
            case schema.NotOf():
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
            raise _ShapeError(
                f"a test on '{raw.answer}' needs exactly one of {ops} (found {sorted(given)})"
            )
        op, value = next(iter(given.items()))
        return AnswerTest(raw.answer, op, value)  # type: ignore[arg-type]

    def target(self, raw: str, flow: str) -> Target:
        if ":" in raw:
            other, step = raw.split(":", 1)
            return Target(other, step or "")
        return Target(flow, raw)


class _ShapeError(ValueError):
    pass


def _build_flow(doc: schema.FlowDoc, b: _Builder) -> Flow:
    steps: dict[str, Step] = {}
    for step_id, raw in doc.steps.items():
        path: list[str | int] = ["steps", step_id]
        try:
            steps[step_id] = _build_step(step_id, raw, doc.flow, path, b)
        except _ShapeError as error:
            b.problem(path, str(error))
    routes = []
    for index, route in enumerate(doc.routes):
        description = route.description
        routes.append(
            Route(
                route.command,
                b.target(route.go, doc.flow),
                b.label(description, ["routes", index, "description"]) if description else None,
                tuple(alias.casefold() for alias in route.aliases),
            )
        )
    return Flow(
        id=doc.flow,
        version=doc.version,
        start=doc.start,
        steps=steps,
        resume=doc.resume or doc.start,
        moved={old: b.target(new, doc.flow) for old, new in doc.moved.items()},
        routes=tuple(routes),
        entry=doc.entry,
        source=b.file,
    )


def _build_step(
    step_id: str, raw: schema.StepDoc, flow: str, path: list[str | int], b: _Builder
) -> Step:
    branches = []
    for index, branch in enumerate(raw.branch or []):
        condition = None
        if branch.if_ is not None:
            try:
                condition = b.condition(branch.if_)
            except _ShapeError as error:
                b.problem([*path, "branch", index, "if"], str(error))
        branches.append(BranchModel(condition, b.target(branch.go, flow)))
    actions = []
    for item in raw.do or []:
        if isinstance(item, str):
            actions.append(ActionCallModel(item))
        else:
            actions.append(ActionCallModel(item.run, dict(item.with_)))
    tips = None
    if raw.tips is not None:
        tips = TipsRefModel(
            raw.tips.catalog,
            raw.tips.limit,
            b.messages(raw.tips.intro, [*path, "tips", "intro"]),
            b.messages(raw.tips.none, [*path, "tips", "none"]),
            b.label(raw.tips.more, [*path, "tips", "more"]) if raw.tips.more else None,
        )
    return Step(
        id=step_id,
        say=b.messages(raw.say, [*path, "say"]),
        input=_build_input(raw.ask, [*path, "ask"], b) if raw.ask else None,
        buttons=tuple(
            ButtonModel(
                b.label(button.label, [*path, "buttons", i, "label"]), b.target(button.go, flow)
            )
            for i, button in enumerate(raw.buttons or [])
        ),
        next=b.target(raw.next, flow) if raw.next else None,
        branches=tuple(branches),
        actions=tuple(actions),
        tips=tips,
        end=raw.end,
        topic=raw.topic,
    )


def _build_input(raw: schema.Ask, path: list[str | int], b: _Builder) -> Input:
    options = tuple(
        OptionModel(option.value, b.label(option.label, [*path, "options", i, "label"]))
        for i, option in enumerate(raw.options or [])
    )
    if raw.type in ("choice", "multi") and not options:
        b.problem(path, f"a '{raw.type}' question needs 'options' (a list of value and label)")
    if raw.type not in ("choice", "multi", "timezone") and raw.options:
        b.problem([*path, "options"], f"a '{raw.type}' question takes no options")
    if raw.type == "integer" and (raw.min is None or raw.max is None):
        b.problem(path, "an 'integer' question needs both 'min' and 'max'")
    elif raw.type == "integer" and raw.min is not None and raw.max is not None:
        if raw.min > raw.max:
            b.problem([*path, "min"], f"min {raw.min} is larger than max {raw.max}")
    elif raw.min is not None or raw.max is not None:
        b.problem(path, f"'min' and 'max' only apply to integer questions, not '{raw.type}'")
    if raw.type != "multi" and (raw.done_label or raw.none_label):
        b.problem(path, "'done_label' and 'none_label' only apply to 'multi' questions")
    values = [option.value for option in options]
    for value in {v for v in values if values.count(v) > 1}:
        b.problem([*path, "options"], f"the value '{value}' is used twice")
    return Input(
        kind=raw.type,
        save=raw.save,
        options=options,
        minimum=raw.min,
        maximum=raw.max,
        reask=b.messages(raw.reask, [*path, "reask"]),
        done_label=b.label(raw.done_label, [*path, "done_label"]) if raw.done_label else None,
        none_label=b.label(raw.none_label, [*path, "none_label"]) if raw.none_label else None,
        audit=raw.audit,
    )


def _build_catalog(doc: schema.CatalogDoc, b: _Builder) -> Catalog:
    tags: dict[str, Condition] = {}
    for tag, raw in doc.tags.items():
        try:
            tags[tag] = b.condition(raw)
        except _ShapeError as error:
            b.problem(["tags", tag], str(error))
    tips = []
    seen: set[str] = set()
    for index, tip in enumerate(doc.tips):
        if tip.id in seen:
            b.problem(["tips", index, "id"], f"duplicate tip id '{tip.id}'")
        seen.add(tip.id)
        for tag in tip.tags:
            if tag not in doc.tags:
                b.problem(
                    ["tips", index, "tags"],
                    f"unknown tag '{tag}'{did_you_mean(tag, doc.tags)}; declare it under 'tags'",
                )
        text = b.text(tip.text, ["tips", index, "text"])
        tips.append(Tip(tip.id, tuple(tip.tags), text, tip.group))
    _check_groups(doc, b)
    return Catalog(doc.catalog, tags, tuple(tips), b.file)


def _check_groups(doc: schema.CatalogDoc, b: _Builder) -> None:
    """A group names tips that say the same thing; one alone is most likely a typo."""
    members: dict[str, list[int]] = {}
    for index, tip in enumerate(doc.tips):
        if tip.group is not None:
            members.setdefault(tip.group, []).append(index)
    for group, indexes in members.items():
        if len(indexes) == 1:
            others = [g for g in members if g != group]
            b.problem(
                ["tips", indexes[0], "group"],
                f"group '{group}' has only this tip{did_you_mean(group, others)}: "
                "give the tips that say the same thing the same group, or drop 'group'",
            )


# ---------------------------------------------------------------- cross-checks


@dataclass
class _Checker:
    flows: dict[str, Flow]
    catalogs: dict[str, Catalog]
    actions: frozenset[str]
    problems: list[FlowError] = field(default_factory=list)

    def problem(self, flow: Flow | Catalog, path: Sequence[str | int], message: str) -> None:
        self.problems.append(FlowError(flow.source, breadcrumb(path), message))

    def run(self) -> None:
        saved = (
            {
                step.input.save
                for flow in self.flows.values()
                for step in flow.steps.values()
                if step.input
            }
            | _action_answers()
            | ENGINE_ANSWERS
        )
        for flow in self.flows.values():
            self.check_flow(flow, saved)
        for catalog in self.catalogs.values():
            for tag, condition in catalog.tags.items():
                self.check_answers(catalog, ["tags", tag], condition, saved)

    def target(self, flow: Flow, path: Sequence[str | int], target: Target) -> None:
        other = self.flows.get(target.flow)
        if other is None:
            hint = did_you_mean(target.flow, self.flows)
            self.problem(flow, path, f"unknown flow '{target.flow}'{hint}")
        elif target.step and target.step not in other.steps:
            hint = did_you_mean(target.step, other.steps)
            where = "" if other is flow else f" in flow '{other.id}'"
            self.problem(flow, path, f"unknown step '{target.step}'{where}{hint}")

    def check_answers(
        self, owner: Flow | Catalog, path: Sequence[str | int], cond: Condition, saved: set[str]
    ) -> None:
        for name in sorted(answers_named(cond) - saved):
            hint = did_you_mean(name, saved)
            self.problem(owner, path, f"no step saves an answer named '{name}'{hint}")

    def check_flow(self, flow: Flow, saved: set[str]) -> None:
        if flow.start not in flow.steps:
            self.problem(
                flow,
                ["start"],
                f"unknown step '{flow.start}'{did_you_mean(flow.start, flow.steps)}",
            )
        if flow.resume not in flow.steps:
            self.problem(
                flow,
                ["resume"],
                f"unknown step '{flow.resume}'{did_you_mean(flow.resume, flow.steps)}",
            )
        for old, new in flow.moved.items():
            if old in flow.steps:
                self.problem(
                    flow, ["moved", old], f"step '{old}' still exists; remove it from 'moved'"
                )
            self.target(flow, ["moved", old], new)
        commands = [route.command for route in flow.routes]
        for index, route in enumerate(flow.routes):
            if commands.count(route.command) > 1:
                self.problem(
                    flow, ["routes", index, "command"], f"duplicate command '{route.command}'"
                )
            self.target(flow, ["routes", index, "go"], route.go)
        for step in flow.steps.values():
            self.check_step(flow, step, saved)
        self.check_reachable(flow)
        self.check_auto_loops(flow)

    def check_step(self, flow: Flow, step: Step, saved: set[str]) -> None:
        path: list[str | int] = ["steps", step.id]
        for index, button in enumerate(step.buttons):
            self.target(flow, [*path, "buttons", index, "go"], button.go)
        for index, branch in enumerate(step.branches):
            self.target(flow, [*path, "branch", index, "go"], branch.go)
            if branch.condition is not None:
                self.check_answers(flow, [*path, "branch", index, "if"], branch.condition, saved)
            last = index == len(step.branches) - 1
            if last and branch.condition is not None:
                self.problem(
                    flow,
                    [*path, "branch", index],
                    "the last branch needs no 'if': it is where everyone else goes",
                )
            if not last and branch.condition is None:
                self.problem(
                    flow,
                    [*path, "branch", index],
                    "only the last branch may leave out 'if' (later ones could never be reached)",
                )
        for index, message in enumerate(step.say):
            if message.condition is not None:
                self.check_answers(flow, [*path, "say", index, "if"], message.condition, saved)
        if step.next is not None:
            self.target(flow, [*path, "next"], step.next)
        if step.next is not None and step.branches:
            self.problem(flow, path, "a step has either 'next' or 'branch', not both")
        for index, action in enumerate(step.actions):
            if action.name not in self.actions:
                hint = did_you_mean(action.name, self.actions)
                known = ", ".join(sorted(self.actions))
                self.problem(
                    flow,
                    [*path, "do", index],
                    f"unknown action '{action.name}'{hint}; known actions: {known}",
                )
        if step.tips is not None and step.tips.catalog not in self.catalogs:
            hint = did_you_mean(step.tips.catalog, self.catalogs)
            known = (
                f"catalogs: {', '.join(sorted(self.catalogs))}"
                if self.catalogs
                else "no file here starts with 'catalog:'"
            )
            self.problem(
                flow,
                [*path, "tips", "catalog"],
                f"unknown tips catalog '{step.tips.catalog}'{hint}; {known}",
            )
        if step.tips is not None and step.tips.more is not None and not step.waits:
            self.problem(
                flow,
                [*path, "tips", "more"],
                "a 'more' button needs a step that waits: give the step buttons (like "
                "'Back to menu') or drop 'more'",
            )
        goes_on = step.next is not None or bool(step.branches)
        if step.end and (goes_on or step.input):
            self.problem(
                flow, path, "an 'end: true' step cannot also ask or go on with next/branch"
            )
        elif not step.end and not goes_on and not step.buttons:
            what = "asks a question but has" if step.input else "has"
            self.problem(
                flow,
                path,
                f"this step {what} no way on: add 'next', 'branch' or buttons, or mark it 'end: true'",
            )
        if step.waits and not step.say and step.tips is None:
            self.problem(
                flow,
                path,
                "a step with a question or buttons must 'say' something to put them under",
            )
        self.check_buttons(flow, step, path)

    def check_buttons(self, flow: Flow, step: Step, path: list[str | int]) -> None:
        count = len(step.buttons)
        labels = [button.label for button in step.buttons]
        if step.input:
            count += len(step.input.options) + (2 if step.input.kind == "multi" else 0)
            labels += [option.label for option in step.input.options]
        if count > MAX_BUTTONS:
            self.problem(
                flow,
                path,
                f"{count} buttons is more than Telegram's {MAX_BUTTONS}: split them over several steps",
            )
        for label in labels:
            for language, text in label.variants.items():
                if len(text) > MAX_LABEL:
                    self.problem(
                        flow,
                        path,
                        f"button label {text[:30]!r}... ({language}) is {len(text)} characters; keep it under {MAX_LABEL}",
                    )
        longest = callbacks.encode_step(flow.id, flow.version, step.id, "b", max(count, 1) - 1)
        size = len(longest.encode())
        if step.waits and size > callbacks.MAX_BYTES:
            self.problem(
                flow,
                path,
                f"button data '{longest}' is {size} bytes; Telegram allows {callbacks.MAX_BYTES}: "
                "use a shorter step id or flow id",
            )

    def check_reachable(self, flow: Flow) -> None:
        entries = {flow.start, flow.resume}
        entries |= {t.step for t in flow.moved.values() if t.flow == flow.id}
        for other in self.flows.values():
            for route in other.routes:
                if route.go.flow == flow.id:
                    entries.add(route.go.step or flow.start)
            for step in other.steps.values():
                if other is not flow:
                    entries |= {t.step or flow.start for t in step.targets() if t.flow == flow.id}
        seen: set[str] = set()
        todo = [step for step in entries if step in flow.steps]
        while todo:
            current = todo.pop()
            if current in seen or current not in flow.steps:  # unknown targets: reported above
                continue
            seen.add(current)
            todo += [t.step for t in flow.steps[current].targets() if t.flow == flow.id]
        for step_id in flow.steps:
            if step_id not in seen:
                self.problem(
                    flow,
                    ["steps", step_id],
                    "unreachable: no button, next, branch or route leads here (link it or remove it)",
                )

    def check_auto_loops(self, flow: Flow) -> None:
        """Steps that go on by themselves must not go round in a circle (reported once)."""
        circling: set[str] = set()
        for start in flow.steps.values():
            if start.waits or start.id in circling:
                continue
            seen: list[str] = [start.id]
            todo = list(start.targets())
            while todo and len(seen) < MAX_AUTO_HOPS:
                target = todo.pop()
                step = flow.steps.get(target.step) if target.flow == flow.id else None
                if step is None or step.waits:
                    continue
                if step.id == start.id:
                    self.problem(
                        flow,
                        ["steps", start.id],
                        f"goes round in a circle without waiting for the person: "
                        f"{' -> '.join([*seen, start.id])}",
                    )
                    circling.update(seen)
                    break
                if step.id not in seen:
                    seen.append(step.id)
                    todo += step.targets()


def _check_texts(file: str, texts: list[tuple[str, Text]], saved: set[str]) -> list[FlowError]:
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


def _check_labels(file: str, labels: list[tuple[str, Text]]) -> list[FlowError]:
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


# ---------------------------------------------------------------- entry point


def load_bundle(paths: Iterable[str | Path], actions: Iterable[str] | None = None) -> Bundle:
    """Load and check every flow and catalog under ``paths``; raise FlowErrors on any problem."""
    from bot.actions import ACTIONS

    known_actions = frozenset(ACTIONS if actions is None else actions)
    problems: list[FlowError] = []
    flows: dict[str, Flow] = {}
    catalogs: dict[str, Catalog] = {}
    texts: list[tuple[str, list[tuple[str, Text]]]] = []
    audience_docs: list[tuple[str, Any]] = []
    followup_docs: list[tuple[str, Any]] = []
    policies: list[Any] = []  # bot.privacy.Policy
    nets: list[Any] = []  # bot.safety.SafetyNet
    text_docs: list[tuple[str, Any]] = []
    files = yaml_files(paths)
    if not files:
        raise FlowErrors([FlowError(", ".join(map(str, paths)), "", "no .yaml files found")])
    for path in files:
        file = str(path)
        try:
            document = read_yaml(path)
        except FlowError as error:
            problems.append(error)
            continue
        kind = document_kind(document)
        if kind is None:
            problems.append(
                FlowError(
                    file,
                    "",
                    "not a flow, catalog, texts or transcript: the file must start with 'flow:', "
                    "'catalog:', 'texts:' or 'transcript:'",
                )
            )
            continue
        if kind == "transcript":
            continue
        if kind == content.KIND:
            text_docs.append((file, document))
            continue
        if kind == "audiences":
            audience_docs.append((file, document))
            continue
        if kind == "followups":
            followup_docs.append((file, document))
            continue
        if kind == "safety":
            from bot.safety import build_safety, safety_texts

            net, found = build_safety(file, document)
            problems += found
            nets += [net] if net is not None else []
            texts.append((file, safety_texts(document)))
            continue
        if kind == "policy":
            from bot.privacy import build_policy

            policy, found = build_policy(file, document)
            problems += found
            policies += [policy] if policy is not None else []
            continue
        builder = _Builder(file)
        model_type: type[BaseModel] = schema.FlowDoc if kind == "flow" else schema.CatalogDoc
        try:
            doc = model_type.model_validate(document)
        except ValidationError as error:
            problems += _from_validation(file, error)
            continue
        if isinstance(doc, schema.FlowDoc):
            flow = _build_flow(doc, builder)
            if flow.id in flows:
                builder.problem(
                    ["flow"], f"duplicate flow id '{flow.id}' (also in {flows[flow.id].source})"
                )
            flows[flow.id] = flow
        else:
            assert isinstance(doc, schema.CatalogDoc)
            catalog = _build_catalog(doc, builder)
            if catalog.id in catalogs:
                builder.problem(
                    ["catalog"],
                    f"duplicate catalog id '{catalog.id}' (also in {catalogs[catalog.id].source})",
                )
            catalogs[catalog.id] = catalog
        problems += builder.problems
        texts.append((file, builder.texts))
        problems += _check_labels(file, builder.labels)
    checker = _Checker(flows, catalogs, known_actions)
    checker.run()
    problems += checker.problems
    saved = {s.input.save for f in flows.values() for s in f.steps.values() if s.input}
    saved |= _action_answers() | ENGINE_ANSWERS
    for file, file_texts in texts:
        problems += _check_texts(file, file_texts, saved)
    if audience_docs:
        from bot.clinics import check_audiences_document  # clinics builds on this module

        for file, document in audience_docs:
            problems += check_audiences_document(file, document, saved)
    if followup_docs:
        from bot.reminders import build_followups  # reminders builds on this module

        for file, document in followup_docs:
            problems += build_followups(file, document, saved)[1]
    from bot.privacy import check_policy

    problems += check_policy(policies[0] if policies else None, flows)
    problems += [
        FlowError(p.source, "policy", "only one privacy policy may be given") for p in policies[1:]
    ]
    problems += [
        FlowError(n.source, "safety", "only one safety file may be given") for n in nets[1:]
    ]
    commands = {route.command for flow in flows.values() for route in flow.routes}
    problems += [
        FlowError(n.source, "route", f"no flow has a route /{n.route}; known: {sorted(commands)}")
        for n in nets[:1]
        if n.route not in commands
    ]
    kit = _kit(text_docs, files, problems)
    entry = _entry_flow(flows, problems)
    if problems:
        raise FlowErrors(problems)
    return Bundle(
        flows=flows,
        catalogs=catalogs,
        entry=entry,
        policy=policies[0] if policies else None,
        safety=nets[0] if nets else None,
        kit=kit,
    )


def _kit(
    documents: list[tuple[str, Any]], files: list[Path], problems: list[FlowError]
) -> content.Kit:
    """The texts files given, plus the shipped sets they leave out (``bot.content``)."""
    kit, found = content.build_kit(documents)
    problems += found
    kit = kit.merged(content.shipped_kit())
    tried = {str(document.get(content.KIND)) for _, document in documents}
    for missing in sorted(set(content.missing_sets(kit)) - tried):
        problems.append(
            FlowError(
                str(files[0].parent if files else "flows"),
                "",
                f"no texts file for set '{missing}': add a file starting with 'texts: {missing}' "
                "(see bot/texts.py for its keys)",
            )
        )
    return kit


def _entry_flow(flows: Mapping[str, Flow], problems: list[FlowError]) -> str:
    marked = [flow for flow in flows.values() if flow.entry]
    if len(marked) == 1:
        return marked[0].id
    if not marked and len(flows) == 1:
        return next(iter(flows))
    if not flows:
        if not problems:
            problems.append(
                FlowError("flows", "", "no flow found: at least one file must start with 'flow:'")
            )
        return ""
    if marked:
        names = ", ".join(f"{f.id} ({f.source})" for f in marked)
        problems.append(
            FlowError(marked[1].source, "entry", f"only one flow may be the entry, found: {names}")
        )
    else:
        first = next(iter(flows.values()))
        problems.append(
            FlowError(
                first.source,
                "entry",
                "several flows and none is marked 'entry: true': mark the one /start opens",
            )
        )
    return ""
