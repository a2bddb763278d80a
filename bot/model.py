"""The runtime model: frozen, typed objects the engine works on.

The loader builds these from validated YAML; nothing past the loader sees a raw dict.
Sessions, events and outcomes are the engine's inputs and outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from bot.content import Kit
    from bot.safety import SafetyNet

DEFAULT_LANGUAGE = "en"

AnswerValue: TypeAlias = str | int | bool | list[str]


@dataclass(frozen=True, slots=True)
class Text:
    """A user-facing text with one variant per language (``en`` always present)."""

    variants: Mapping[str, str]

    def get(self, language: str) -> str:
        return self.variants.get(language) or self.variants[DEFAULT_LANGUAGE]

    @classmethod
    def plain(cls, text: str) -> Text:
        return cls({DEFAULT_LANGUAGE: text})


# ---------------------------------------------------------------- conditions

Comparison = Literal[
    "equals", "not_equals", "in", "has", "has_any", "at_least", "at_most", "answered"
]


@dataclass(frozen=True, slots=True)
class AnswerTest:
    answer: str
    op: Comparison
    value: Any

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        if self.op == "answered":
            return (self.answer in answers) == bool(self.value)
        if self.answer not in answers:
            return False
        given = answers[self.answer]
        match self.op:
            case "equals":
                return bool(given == self.value)
            case "not_equals":
                return bool(given != self.value)
            case "in":
                return given in self.value
            case "has":
                return isinstance(given, list) and self.value in given
            case "has_any":
                return isinstance(given, list) and any(v in given for v in self.value)
            case "at_least":
                return _is_number(given) and given >= self.value
            case "at_most":
                return _is_number(given) and given <= self.value
        return False  # pragma: no cover - every Comparison is matched above


def _is_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Condition, ...]

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        return all(item.holds(answers) for item in self.items)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        return any(item.holds(answers) for item in self.items)


@dataclass(frozen=True, slots=True)
class NotOf:
    item: Condition

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        return not self.item.holds(answers)


@dataclass(frozen=True, slots=True)
class Always:
    value: bool = True

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        return self.value


Condition: TypeAlias = AnswerTest | AllOf | AnyOf | NotOf | Always


def answers_named(condition: Condition) -> set[str]:
    """Every answer name a condition reads."""
    match condition:
        case AnswerTest(answer=name):
            return {name}
        case AllOf(items=items) | AnyOf(items=items):
            return set().union(*(answers_named(item) for item in items))
        case NotOf(item=item):
            return answers_named(item)
    return set()


# ---------------------------------------------------------------- flows


@dataclass(frozen=True, slots=True)
class Target:
    flow: str
    step: str

    def __str__(self) -> str:
        return f"{self.flow}:{self.step}"


@dataclass(frozen=True, slots=True)
class Message:
    text: Text
    condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: Text
    go: Target


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Text


InputKind = Literal["choice", "multi", "yes_no", "integer", "time", "timezone", "text"]


@dataclass(frozen=True, slots=True)
class Input:
    kind: InputKind
    save: str
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    reask: tuple[Message, ...] = ()
    done_label: Text | None = None
    none_label: Text | None = None
    audit: bool = False  # each answer is also an ``answer_audited`` effect


@dataclass(frozen=True, slots=True)
class Branch:
    condition: Condition | None
    go: Target


@dataclass(frozen=True, slots=True)
class ActionCall:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TipsRef:
    catalog: str
    limit: int  # tips per message
    intro: tuple[Message, ...] = ()
    none: tuple[Message, ...] = ()
    more: Text | None = None  # label of the button that shows the next tips, while any are left


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    say: tuple[Message, ...] = ()
    input: Input | None = None
    buttons: tuple[Button, ...] = ()
    next: Target | None = None
    branches: tuple[Branch, ...] = ()
    actions: tuple[ActionCall, ...] = ()
    tips: TipsRef | None = None
    end: bool = False
    topic: str | None = None
    needs_consent: bool = False  # a question asked only after consent (bot.privacy)
    image: str | None = None  # a picture shown with the first message (bot.pictures)
    alt: Text | None = None  # what the picture shows, in words

    @property
    def waits(self) -> bool:
        """A step that waits for the person: it has a question or buttons."""
        return self.input is not None or bool(self.buttons)

    def targets(self) -> list[Target]:
        found = [button.go for button in self.buttons]
        found += [branch.go for branch in self.branches]
        if self.next is not None:
            found.append(self.next)
        return found


@dataclass(frozen=True, slots=True)
class Route:
    command: str
    go: Target
    description: Text | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    version: int
    start: str
    steps: Mapping[str, Step]
    resume: str
    moved: Mapping[str, Target] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    entry: bool = False
    source: str = ""


@dataclass(frozen=True, slots=True)
class Tip:
    id: str
    tags: tuple[str, ...]
    text: Text
    group: str | None = None  # tips of one group say the same thing: one of them is shown

    @property
    def key(self) -> str:
        """What makes two tips the same for a reader: their group, else the tip itself."""
        return self.group or f"#{self.id}"


@dataclass(frozen=True, slots=True)
class Catalog:
    id: str
    tags: Mapping[str, Condition]  # in the order they are declared: the order of coverage
    tips: tuple[Tip, ...]
    source: str = ""

    def fitting_tags(self, answers: Mapping[str, AnswerValue]) -> list[str]:
        return [tag for tag, condition in self.tags.items() if condition.holds(answers)]

    def fitting(self, answers: Mapping[str, AnswerValue]) -> list[Tip]:
        """Every tip with a fitting tag, in catalog order (groups not yet merged)."""
        fits = set(self.fitting_tags(answers))
        return [tip for tip in self.tips if fits.intersection(tip.tags)]

    def offer(self, answers: Mapping[str, AnswerValue]) -> list[Tip]:
        """The tips to show, best first: at most one per group, and early on at least one
        for each fitting tag (in the order the tags are declared), then the rest in catalog
        order. Split it into messages with :func:`tip_pages`."""
        fits = self.fitting_tags(answers)
        chosen: list[Tip] = []
        used: set[str] = set()

        def take(tip: Tip) -> None:
            chosen.append(tip)
            used.add(tip.key)

        for tag in fits:
            if any(tag in tip.tags for tip in chosen):
                continue  # already covered by a tip chosen for an earlier tag
            first = next((t for t in self.tips if tag in t.tags and t.key not in used), None)
            if first is not None:
                take(first)
        for tip in self.tips:
            if tip.key not in used and set(fits).intersection(tip.tags):
                take(tip)
        return chosen


def tip_pages(tips: list[Tip], per_message: int) -> list[list[Tip]]:
    """``tips`` in messages of ``per_message`` tips each (the last may hold fewer)."""
    size = max(per_message, 1)
    return [tips[i : i + size] for i in range(0, len(tips), size)]


# ---------------------------------------------------------------- the privacy policy


@dataclass(frozen=True, slots=True)
class ConsentRule:
    """Questions marked ``needs_consent`` need consent to policy ``version``, asked at ``ask``."""

    version: int
    ask: Target


@dataclass(frozen=True, slots=True)
class PolicyItem:
    what: Text
    why: Text
    kept: Text
    seen_by: Text


@dataclass(frozen=True, slots=True)
class Right:
    command: str
    text: Text


@dataclass(frozen=True, slots=True)
class Policy:
    """The privacy policy (a ``policy:`` file, read by ``bot.privacy``), with its consent
    rule."""

    id: str
    version: int
    updated: str
    topic: str
    title: Text
    intro: tuple[Text, ...]
    items: tuple[PolicyItem, ...]
    rights_intro: Text
    rights: tuple[Right, ...]
    outro: tuple[Text, ...]
    consent: ConsentRule
    source: str = ""

    def commands(self) -> list[str]:
        return [right.command for right in self.rights]


@dataclass(frozen=True, slots=True)
class Bundle:
    """Every flow and catalog the bot serves, cross-checked together."""

    flows: Mapping[str, Flow]
    catalogs: Mapping[str, Catalog]
    entry: str
    policy: Policy | None = None  # the privacy policy (a ``policy:`` file), with its consent rule
    safety: SafetyNet | None = None  # the free-text safety net (a ``safety:`` file)
    kit: Kit | None = None  # texts code looks up by key (``texts:`` files, see bot.content)

    def routes(self) -> dict[str, Route]:
        """Global routes of every flow; the entry flow's win on a clash."""
        found: dict[str, Route] = {}
        for flow in sorted(self.flows.values(), key=lambda f: f.entry):
            found.update({route.command: route for route in flow.routes})
        return found


# ---------------------------------------------------------------- conversation


@dataclass(frozen=True, slots=True)
class Session:
    """Where one person is in a conversation, and what they told us."""

    user_id: str
    flow: str
    version: int
    step: str
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    language: str = DEFAULT_LANGUAGE
    failures: int = 0  # invalid answers in a row at the current step
    picked: tuple[str, ...] = ()  # a several-choice answer being built
    revision: int = 0  # bumped on every change; lets storage detect lost updates
    last_update: int = 0  # the adapter's last handled update id (redeliveries: storage.updates)

    def with_answer(self, name: str, value: AnswerValue) -> Session:
        return replace(self, answers={**self.answers, name: value})


EventKind = Literal["start", "button", "text", "command", "timer"]


@dataclass(frozen=True, slots=True)
class Event:
    """Something a person (or a timer) did; each field has one meaning, set for its kind."""

    kind: EventKind
    text: str = ""  # text: what was typed
    command: str = ""  # command: its name without "/", lower case
    args: str = ""  # command: what followed its name
    payload: str = ""  # start: the deep link's payload ("" without one)
    data: str = ""  # button: the pressed button's callback data
    timer: str = ""  # timer: its name
    at: float = 0.0  # when it happened (UTC seconds) as the adapter's clock says; 0: unknown

    @classmethod
    def start(cls, payload: str = "") -> Event:
        return cls("start", payload=payload)

    @classmethod
    def button(cls, data: str) -> Event:
        return cls("button", data=data)

    @classmethod
    def message(cls, text: str) -> Event:
        return cls("text", text=text)

    @classmethod
    def command_named(cls, name: str, args: str = "") -> Event:
        return cls("command", command=name, args=args)

    @classmethod
    def timer_named(cls, name: str) -> Event:
        return cls("timer", timer=name)


@dataclass(frozen=True, slots=True)
class ReplyButton:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send: Telegram HTML text and rows of inline buttons."""

    text: str
    buttons: tuple[tuple[ReplyButton, ...], ...] = ()
    step: str = ""  # the step that produced it, for logs
    edit: bool = False  # replace the buttons of the message that was pressed, not a new one
    image: str = ""  # a picture sent with this text as its caption (bot.pictures reference)
    alt: str = ""  # the picture in words

    def button_labels(self) -> list[str]:
        return [button.label for row in self.buttons for button in row]


@dataclass(frozen=True, slots=True)
class Effect:
    """Work the engine asks an adapter to do: an action's side effect, stored or scheduled."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    session: Session
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
    chosen: str | None = None  # label of the button pressed, to show in place of the buttons
    visited: tuple[str, ...] = ()  # "flow:step" of every step entered, in order
