"""YAML -> validated runtime model. Every problem is found before anything runs.

``load_bundle(paths)`` reads flow files and tip catalogs, checks each against the schema
(``bot.schema``), builds the frozen model (``bot.model``), then checks every cross-reference
across files. All problems are collected and raised together as ``FlowErrors``; each names
the file, a breadcrumb path and the bad value, and suggests a fix where it can.

Other document kinds (audiences, follow-ups, the privacy policy, the safety net) are read by
the modules that use them, registered in ``bot.kinds``; the tools every reader shares
(``Builder``, ``validation_errors``, ``check_texts``, ...) are in ``bot.authoring``. This
module imports neither the kinds nor the features: they build on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

import bot.texts  # noqa: F401  declares the text sets a texts file is checked against
from bot import callbacks, content, pictures, schema, translations
from bot.actions import ACTION_ANSWERS, ACTIONS
from bot.authoring import (
    Builder,
    DocumentKind,
    Loading,
    ShapeError,
    breadcrumb,
    check_code_needs,
    check_labels,
    check_texts,
    did_you_mean,
    document_kind,
    read_yaml,
    registered,
    validation_errors,
    yaml_files,
)
from bot.errors import FlowError, FlowErrors, HipbotError
from bot.model import ActionCall as ActionCallModel
from bot.model import Branch as BranchModel
from bot.model import (
    Bundle,
    Catalog,
    Condition,
    Flow,
    Input,
    Route,
    Step,
    Target,
    Tip,
    answers_named,
)
from bot.model import Button as ButtonModel
from bot.model import Option as OptionModel
from bot.model import TipsRef as TipsRefModel
from bot.telegram_html import HtmlProblem, visible_length

MAX_BUTTONS = 100  # python-telegram-bot's assumption; Telegram documents none
MAX_LABEL = 64  # longer labels are cut off in Telegram's clients
MAX_AUTO_HOPS = 25
MAX_TEXT_ANSWER = 200  # a typed answer ('text' question) is a few words, never a story
# answers the engine keeps itself (bot.safety): flows may test them like saved answers
ENGINE_ANSWERS = frozenset({"recent_red_flag"})


# ---------------------------------------------------------------- building the model


def _build_flow(doc: schema.FlowDoc, b: Builder) -> Flow:
    steps: dict[str, Step] = {}
    for step_id, raw in doc.steps.items():
        path: list[str | int] = ["steps", step_id]
        try:
            steps[step_id] = _build_step(step_id, raw, doc.flow, path, b)
        except ShapeError as error:
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
    step_id: str, raw: schema.StepDoc, flow: str, path: list[str | int], b: Builder
) -> Step:
    branches = []
    for index, branch in enumerate(raw.branch or []):
        condition = None
        if branch.if_ is not None:
            try:
                condition = b.condition(branch.if_)
            except ShapeError as error:
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
        needs_consent=raw.needs_consent,
        **_picture(raw, path, b),
    )


def _picture(raw: schema.StepDoc, path: list[str | int], b: Builder) -> dict[str, Any]:
    """A step's ``image`` resolved (``bot.pictures``) and its ``alt`` text; problems noted."""
    if raw.image is None:
        if raw.alt is not None:
            b.problem([*path, "alt"], "'alt' describes a picture: add 'image' or drop 'alt'")
        return {}
    alt = b.text(raw.alt, [*path, "alt"], plain=True) if raw.alt is not None else None
    if alt is None or not all(text.strip() for text in alt.variants.values()):
        b.problem(
            [*path, "alt"],
            f"the picture '{raw.image}' needs 'alt': a sentence saying what it shows, for "
            "people who cannot see it",
        )
    ref = _picture_ref(raw.image, [*path, "image"], b)
    if raw.say is None:
        b.problem([*path, "image"], "the picture goes with the step's first message: add 'say'")
    caption = raw.say[0] if isinstance(raw.say, list) and raw.say else raw.say
    if ref is not None and caption is not None:
        _check_caption(caption, [*path, "say"], b)
    return {"image": ref, "alt": alt}


def _picture_ref(image: str, path: list[str | int], b: Builder) -> str | None:
    if not pictures.is_file(image):
        if image in pictures.DRAWINGS or pictures.is_personal(image):
            return image
        b.problem(
            path,
            f"unknown picture '{image}'{did_you_mean(image, pictures.DRAWINGS)}: name a drawing "
            f"({', '.join(pictures.DRAWINGS)}) or a PNG/JPEG file like "
            f"'{pictures.FOLDER}/knee.png'",
        )
        return None
    folder = (Path(b.file).parent / pictures.FOLDER).resolve()
    file = (Path(b.file).parent / image).resolve()
    if not file.is_relative_to(folder):
        b.problem(
            path,
            f"the picture '{image}' must be in the '{pictures.FOLDER}/' folder next to "
            f"this flow file ({folder})",
        )
        return None
    problem = pictures.check_file(file)
    if problem is not None:
        b.problem(path, problem)
        return None
    return str(file)


def _check_caption(first: Any, path: list[str | int], b: Builder) -> None:
    """The first message goes out as the picture's caption: Telegram takes 1024 characters."""
    raw = first.text if isinstance(first, schema.IfTextDoc) else first
    variants = {"en": raw} if isinstance(raw, str) else dict(raw)
    for language, text in variants.items():
        try:
            length = visible_length(text)
        except HtmlProblem:
            continue  # reported by the text checks
        if length > pictures.MAX_CAPTION:
            b.problem(
                path,
                f"the first message ({language}) is {length} characters; sent as the picture's "
                f"caption it may have {pictures.MAX_CAPTION}: split it into two messages",
            )


def _build_input(raw: schema.AskDoc, path: list[str | int], b: Builder) -> Input:
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
    elif raw.type == "text":
        _check_text_input(raw, path, b)
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


def _check_text_input(raw: schema.AskDoc, path: list[str | int], b: Builder) -> None:
    """A typed answer: short (``max`` characters, at most ``MAX_TEXT_ANSWER``) and a re-ask
    of its own (the default re-ask says to tap a button)."""
    if raw.min is not None:
        b.problem([*path, "min"], "a 'text' question takes 'max' (characters), not 'min'")
    if raw.max is None or not 1 <= raw.max <= MAX_TEXT_ANSWER:
        b.problem(
            path,
            f"a 'text' question needs 'max' from 1 to {MAX_TEXT_ANSWER} characters, not {raw.max}",
        )
    if raw.reask is None:
        b.problem(path, "a 'text' question needs a 'reask' saying what to type")


def _build_catalog(doc: schema.CatalogDoc, b: Builder) -> Catalog:
    tags: dict[str, Condition] = {}
    for tag, raw in doc.tags.items():
        try:
            tags[tag] = b.condition(raw)
        except ShapeError as error:
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


def _check_groups(doc: schema.CatalogDoc, b: Builder) -> None:
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
            | ACTION_ANSWERS
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


# ---------------------------------------------------------------- entry point


def load_bundle(
    paths: Iterable[str | Path],
    actions: Iterable[str] | None = None,
    languages: Iterable[str] = translations.FALLBACK_ONLY,
) -> Bundle:
    """Load and check every file under ``paths``: flows, catalogs, texts and every kind
    registered (``bot.kinds``); raise FlowErrors on any problem. A text missing one of
    ``languages`` is a problem (``hipbot validate`` asks for every supported language; the
    bot itself falls back to English)."""
    with translations.collecting() as gaps:
        return _load_bundle(paths, actions, languages, gaps)


def _load_bundle(
    paths: Iterable[str | Path],
    actions: Iterable[str] | None,
    languages: Iterable[str],
    gaps: list[FlowError],
) -> Bundle:
    if not registered():
        raise HipbotError(
            "no document kinds are registered: import bot.kinds first (bot.cli and the "
            "tests' conftest do), or audiences, privacy and safety files are not read"
        )
    known_actions = frozenset(ACTIONS if actions is None else actions)
    loading = Loading()
    problems = loading.problems
    text_docs: list[tuple[str, Any]] = []
    kinds = {kind.key: kind for kind in registered()}
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
        elif kind == content.KIND:
            text_docs.append((file, document))
        elif kind in kinds:
            _read(kinds[kind], file, document, loading)
        else:
            _read_flow_or_catalog(kind, file, document, loading)
    checker = _Checker(loading.flows, loading.catalogs, known_actions)
    checker.run()
    problems += checker.problems
    loading.saved = {
        s.input.save for f in loading.flows.values() for s in f.steps.values() if s.input
    }
    loading.saved |= ACTION_ANSWERS | ENGINE_ANSWERS
    for file, file_texts in loading.texts:
        problems += check_texts(file, file_texts, loading.saved)
    for registered_kind in kinds.values():
        if registered_kind.check is not None:
            registered_kind.check(loading)
    check_code_needs(loading)
    kit = _kit(text_docs, files, problems)
    entry = _entry_flow(loading.flows, problems)
    problems = translations.required([*problems, *gaps], languages)
    if problems:
        raise FlowErrors(problems)
    return Bundle(
        flows=loading.flows, catalogs=loading.catalogs, entry=entry, kit=kit, **loading.bundle
    )


def _read(kind: DocumentKind, file: str, document: Any, loading: Loading) -> None:
    if kind.read is not None:
        kind.read(file, document, loading)


def _read_flow_or_catalog(kind: str, file: str, document: Any, loading: Loading) -> None:
    builder = Builder(file)
    model_type: type[BaseModel] = schema.FlowDoc if kind == "flow" else schema.CatalogDoc
    try:
        doc = model_type.model_validate(document)
    except ValidationError as error:
        loading.problems += validation_errors(file, error)
        return
    if isinstance(doc, schema.FlowDoc):
        flow = _build_flow(doc, builder)
        if flow.id in loading.flows:
            builder.problem(
                ["flow"], f"duplicate flow id '{flow.id}' (also in {loading.flows[flow.id].source})"
            )
        loading.flows[flow.id] = flow
    else:
        assert isinstance(doc, schema.CatalogDoc)
        catalog = _build_catalog(doc, builder)
        if catalog.id in loading.catalogs:
            builder.problem(
                ["catalog"],
                f"duplicate catalog id '{catalog.id}' (also in "
                f"{loading.catalogs[catalog.id].source})",
            )
        loading.catalogs[catalog.id] = catalog
    loading.problems += builder.problems
    loading.texts.append((file, builder.texts))
    loading.problems += check_labels(file, builder.labels)


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
