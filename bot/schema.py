"""The YAML flow language, as strict pydantic models.

This module is the single definition of what a flow file may contain. Every model forbids
unknown keys, so a typo such as ``buton:`` is reported with its path instead of being
ignored. The loader (``bot.loader``) turns these parsed documents into the frozen runtime
model (``bot.model``) after checking every cross-reference.

A flow file looks like this::

    flow: hip                 # id, lower case letters, digits and _
    version: 3                # bump when steps change; sessions record it
    start: welcome
    resume: menu              # where people land when their step no longer exists
    moved: {old_step: new_step}
    routes:                   # available from every step: /menu, /help, /urgent ...
      - command: menu
        go: menu
        description: Main menu
    steps:
      welcome:
        say: "Hello! <b>Welcome.</b>"          # or a list of messages
        buttons:
          - {label: "Learn", go: learn_1}
      pain_now:
        say: "How bad is the pain right now, from 0 to 10?"
        ask: {type: integer, min: 0, max: 10, save: pain_now,
              reask: "Please type a whole number from 0 to 10."}
        next: summary
      summary:
        branch:
          - if: {answer: pain_now, at_least: 7}
            go: high_pain
          - go: low_pain                        # the last branch has no `if`
      goodbye:
        say: "Take care."
        end: true

Every text may be a plain string (English) or a mapping of language codes to strings, with
``en`` required: ``{en: "Hello", de: "Hallo"}``.

A target (``go``, ``next``, ``resume``, ``moved``) is a step id in the same flow, or
``other_flow:step`` / ``other_flow:`` (its start) in another flow.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Target = Annotated[str, StringConstraints(pattern=r"^([a-z][a-z0-9_]*:)?([a-z][a-z0-9_]*)?$")]
Command = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
TimeOfDay = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]

# A user-facing text: "plain English" or {en: ..., de: ...}.
Text = str | dict[str, str]


def _shape(value: Any) -> str:
    """Pick the one union member a value is meant to be, so errors speak of that member."""
    if isinstance(value, str):
        return "Str"
    if isinstance(value, list):
        return "List"
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, dict):
        for key, tag in (("all", "AllOf"), ("any", "AnyOf"), ("not", "NotOf"), ("text", "IfText")):
            if key in value:
                return tag
        if "run" in value:
            return "ActionCall"
        if "answer" in value:
            return "AnswerTest"
        return "Dict"
    return "Str"


class StrictDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class IfTextDoc(StrictDoc):
    """A message said only when its condition holds (handy for summaries)."""

    text: Text
    if_: Condition = Field(alias="if")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Said = Annotated[
    Annotated[str, Tag("Str")]
    | Annotated[dict[str, str], Tag("Dict")]
    | Annotated[IfTextDoc, Tag("IfText")],
    Discriminator(_shape),
]
Texts = Annotated[
    Annotated[str, Tag("Str")]
    | Annotated[dict[str, str], Tag("Dict")]
    | Annotated[IfTextDoc, Tag("IfText")]
    | Annotated[list[Said], Tag("List")],
    Discriminator(_shape),
]


# ---------------------------------------------------------------- conditions


class AnswerTestDoc(StrictDoc):
    """A test on one saved answer. Exactly one comparison is given."""

    answer: Ident
    equals: str | int | bool | None = None
    not_equals: str | int | bool | None = None
    in_: list[str | int] | None = Field(default=None, alias="in")
    has: str | None = None  # a several-choice answer includes this value
    has_any: list[str] | None = None
    at_least: int | None = None
    at_most: int | None = None
    answered: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AllOfDoc(StrictDoc):
    all: list[Condition] = Field(min_length=1)


class AnyOfDoc(StrictDoc):
    any: list[Condition] = Field(min_length=1)


class NotOfDoc(StrictDoc):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Condition = Annotated[
    Annotated[AnswerTestDoc, Tag("AnswerTest")]
    | Annotated[AllOfDoc, Tag("AllOf")]
    | Annotated[AnyOfDoc, Tag("AnyOf")]
    | Annotated[NotOfDoc, Tag("NotOf")]
    | Annotated[AnswerTestDoc, Tag("Dict")]
    | Annotated[AnswerTestDoc, Tag("Str")]
    | Annotated[AnswerTestDoc, Tag("List")],
    Discriminator(_shape),
]
TagCondition = Annotated[
    Annotated[bool, Tag("Bool")]
    | Annotated[AnswerTestDoc, Tag("AnswerTest")]
    | Annotated[AllOfDoc, Tag("AllOf")]
    | Annotated[AnyOfDoc, Tag("AnyOf")]
    | Annotated[NotOfDoc, Tag("NotOf")]
    | Annotated[AnswerTestDoc, Tag("Dict")]
    | Annotated[AnswerTestDoc, Tag("Str")]
    | Annotated[AnswerTestDoc, Tag("List")],
    Discriminator(_shape),
]


# ---------------------------------------------------------------- steps


class OptionDoc(StrictDoc):
    """One choice of a one-choice or several-choice question."""

    value: Ident
    label: Text


class AskDoc(StrictDoc):
    """A question whose answer is saved under ``save``."""

    type: Literal["choice", "multi", "yes_no", "integer", "time", "timezone", "text"]
    save: Ident
    options: list[OptionDoc] | None = None  # choice and multi
    min: int | None = None  # integer
    max: int | None = None  # integer; text: the most characters a typed answer may have
    reask: Texts | None = None  # said when the answer is not valid
    done_label: Text | None = None  # multi: the button that finishes the choice
    none_label: Text | None = None  # multi: a "none of these" button
    audit: bool = False  # every answer is also recorded for the audit trail (red flags)


class ButtonDoc(StrictDoc):
    label: Text
    go: Target


class BranchDoc(StrictDoc):
    if_: Condition | None = Field(default=None, alias="if")
    go: Target

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ActionCallDoc(StrictDoc):
    run: Ident
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TipsRefDoc(StrictDoc):
    """Show the tips of a catalog whose tags fit the saved answers."""

    catalog: Ident
    limit: int = Field(default=4, ge=1, le=8)  # tips per message (a phone screen holds ~4)
    intro: Texts | None = None
    none: Texts | None = None  # said when no tip fits
    more: Text | None = None  # a button that shows the next tips, offered while any are left


class StepDoc(StrictDoc):
    say: Texts | None = None
    ask: AskDoc | None = None
    buttons: list[ButtonDoc] | None = None
    next: Target | None = None
    branch: list[BranchDoc] | None = None
    do: (
        list[
            Annotated[
                Annotated[Ident, Tag("Str")]
                | Annotated[ActionCallDoc, Tag("ActionCall")]
                | Annotated[ActionCallDoc, Tag("Dict")],
                Discriminator(_shape),
            ]
        ]
        | None
    ) = None
    tips: TipsRefDoc | None = None
    end: bool = False
    topic: str | None = None  # groups messages for the reading-level lint (and logs)
    # a health question: asked only once the person agreed to the current privacy policy
    needs_consent: bool = False
    # a picture shown with the first message: a drawing's name (bot.drawings) or a PNG/JPEG
    # file under images/ next to this file ("images/knee.png"); alt says what it shows
    image: str | None = None
    alt: Text | None = None
    note: str | None = None  # for editors; never shown

    @field_validator("do", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value


class RouteDoc(StrictDoc):
    command: Command
    go: Target
    description: Text | None = None  # shown in Telegram's command menu
    aliases: list[str] = Field(default_factory=list)  # words that also trigger it


class FlowDoc(StrictDoc):
    flow: Ident
    version: int = Field(ge=1)
    start: Ident
    entry: bool = False  # the flow /start opens (needed when there are several flows)
    resume: Ident | None = None
    title: Text | None = None
    moved: dict[str, Target] = Field(default_factory=dict)
    routes: list[RouteDoc] = Field(default_factory=list)
    steps: dict[Ident, StepDoc] = Field(min_length=1)


# ---------------------------------------------------------------- tip catalogs


class TipDoc(StrictDoc):
    id: Ident
    tags: list[Ident] = Field(min_length=1)
    text: Text
    group: Ident | None = None  # tips that say the same thing share a group: one is shown
    source: str | None = None  # where the fact comes from, for reviewers


class CatalogDoc(StrictDoc):
    catalog: Ident
    tags: dict[Ident, TagCondition]  # a tag fits when its condition holds; true: always
    tips: list[TipDoc] = Field(min_length=1)


for _model in (
    IfTextDoc,
    AllOfDoc,
    AnyOfDoc,
    NotOfDoc,
    BranchDoc,
    AskDoc,
    TipsRefDoc,
    StepDoc,
    CatalogDoc,
):
    _model.model_rebuild()


# ---------------------------------------------------------------- clinic audiences


class WeeksDoc(StrictDoc):
    """Whole weeks since the patient joined the clinic's messages."""

    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)


class AudienceDoc(StrictDoc):
    """Who a clinic broadcast goes to; every part given must hold (``bot.features.clinics``)."""

    label: Annotated[str, StringConstraints(min_length=1, max_length=60)]  # staff's button
    if_: Condition | None = Field(default=None, alias="if")
    weeks_since_joining: WeeksDoc | None = None
    language: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]] | None = None
    note: str | None = None  # for editors; never shown

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AudiencesDoc(StrictDoc):
    audiences: dict[Ident, AudienceDoc] = Field(min_length=1)


# ---------------------------------------------------------------- follow-up sequences


class FollowupMessageDoc(StrictDoc):
    """One message of a follow-up sequence: sent ``day`` days after the start day, in the
    person's local daytime, if its condition on the saved answers holds (bot.features.reminders)."""

    id: Ident
    day: int = Field(ge=0, le=3650)
    at: TimeOfDay | None = None  # local time of day; default: the sequence's send_at
    if_: Condition | None = Field(default=None, alias="if")
    say: Text
    topic: str | None = None  # groups messages for the reading-level lint
    note: str | None = None  # for editors; never shown

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FollowupsDoc(StrictDoc):
    followups: Ident  # the sequence's id
    title: Text | None = None  # shown in /reminders
    send_at: TimeOfDay = "10:00"  # local time of day messages go out
    messages: list[FollowupMessageDoc] = Field(min_length=1)


FollowupMessageDoc.model_rebuild()


# ---------------------------------------------------------------- the privacy policy

FlowStep = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]


class PolicyItemDoc(StrictDoc):
    """One kind of data the bot keeps, in four plain sentences (``bot.features.privacy``)."""

    what: Text  # what is kept
    why: Text  # what it is used for
    kept: Text  # how long
    seen_by: Text  # who can see it


class PolicyRightDoc(StrictDoc):
    """A right, and the command that uses it."""

    command: Command
    text: Text


class PolicyConsentDoc(StrictDoc):
    """Where people agree to the current policy version. A question that needs it says so
    itself (``needs_consent: true``); without consent the person is taken to ``ask`` first."""

    ask: FlowStep
    topics: list[Ident] | None = None  # replaced by needs_consent: named as a mistake


class PolicyDoc(StrictDoc):
    policy: Ident
    version: int = Field(ge=1)  # bump on any change of substance: people are asked again
    updated: Day
    topic: Ident = "privacy_policy"  # for the reading-level lint
    title: Text
    intro: list[Text] = Field(default_factory=list)
    data: list[PolicyItemDoc] = Field(min_length=1)
    rights_intro: Text
    rights: list[PolicyRightDoc] = Field(min_length=1)
    outro: list[Text] = Field(default_factory=list)
    consent: PolicyConsentDoc
