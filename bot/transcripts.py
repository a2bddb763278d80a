"""``hipbot test``: transcript tests written in YAML, run on the real engine and actions.

A transcript is a list of actions (send a text or command, click a button, restart) with
what the bot's replies to that action must and must not contain. The runner reports
pass/fail per transcript and which steps no transcript reached.

Languages: a transcript speaks English unless it names its ``language: es``, or runs in
several with ``languages: [en, es, de]``. Then the same lines are replayed in each language,
the first being the reference: a plain ``click``, ``send``, ``expect``, ``expect_not`` and
``buttons`` are in the first language; in the others a click presses the same button (by
its position, found in the first language), a plain ``send`` is sent as it is (commands,
numbers), ``step`` and ``answers`` are checked the same, and the buttons offered must be
the same ones. Texts and labels for another language are given per language::

    - click: {en: "Open the menu", es: "Abrir el menú"}      # or by position: click: 1
      send: {en: "yes", es: "sí", de: "ja"}                 # (one of click or send)
      expect: {en: ["not a diagnosis"], es: ["no es un diagnóstico"]}

Step coverage is counted per language, and must be 100% in each language a transcript runs in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from bot.authoring import document_kind, read_yaml, validation_errors, yaml_files
from bot.conversation import ButtonNotOffered, Conversation
from bot.engine import Engine
from bot.errors import FlowError, FlowErrors
from bot.languages import SUPPORTED
from bot.loader import load_bundle
from bot.model import DEFAULT_LANGUAGE, Bundle, Event, Outcome, Reply, Session
from bot.storage import MemoryStorage, SqlStorage, Storage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _listed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _listed(item) for key, item in value.items()}
    return [value] if isinstance(value, str) else value


Fragments = list[str] | dict[str, list[str]]  # in the first language, or per language


class Line(_Strict):
    send: str | dict[str, str] | None = None
    click: str | int | dict[str, str] | None = None  # a label, or a button's position from 1
    restart: bool | None = None
    wait_days: float | None = Field(default=None, gt=0)  # move the transcript's clock on
    expect: Fragments = Field(default_factory=list)
    expect_not: Fragments = Field(default_factory=list)
    buttons: Fragments = Field(default_factory=list)
    step: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {
                k: _listed(v) if k in ("expect", "expect_not", "buttons") else v
                for k, v in data.items()
            }
        return data

    @model_validator(mode="after")
    def _one_action(self) -> Line:
        actions = [
            self.send is not None,
            self.click is not None,
            bool(self.restart),
            self.wait_days is not None,
        ]
        if sum(actions) != 1:
            raise ValueError("each line needs exactly one of send, click, restart or wait_days")
        return self


class TranscriptDoc(_Strict):
    transcript: str
    config: dict[str, str] = Field(default_factory=dict)
    user: str = "transcript"
    language: str | None = None  # the one language it speaks (default: English)
    languages: list[str] | None = Field(default=None, min_length=1)  # replayed in each
    steps: list[Line] = Field(min_length=1)
    _lines: list[int] = PrivateAttr(default_factory=list)  # file line of each step

    @model_validator(mode="after")
    def _known_languages(self) -> TranscriptDoc:
        if self.language is not None and self.languages is not None:
            raise ValueError("give 'language' (one) or 'languages' (several), not both")
        for code in self.spoken():
            if code not in SUPPORTED:
                raise ValueError(
                    f"language '{code}' is not supported (bot/languages.py has "
                    f"{', '.join(SUPPORTED)})"
                )
        for index, line in enumerate(self.steps):
            for name in ("send", "click", "expect", "expect_not", "buttons"):
                value = getattr(line, name)
                extra = set(value) - set(self.spoken()) if isinstance(value, dict) else set()
                if extra:
                    raise ValueError(
                        f"steps[{index}].{name}: {sorted(extra)} not among the transcript's "
                        f"languages {self.spoken()}"
                    )
            if isinstance(line.send, dict) and set(line.send) != set(self.spoken()):
                raise ValueError(
                    f"steps[{index}].send: give the text in every language {self.spoken()}"
                )
        return self

    def spoken(self) -> list[str]:
        """The languages it runs in, the reference first."""
        if self.languages is not None:
            return list(self.languages)
        return [self.language or DEFAULT_LANGUAGE]

    def where(self, index: int) -> str:
        """'line 12' (the file line of the index-th step, from 0), or 'step 3' if unknown."""
        if index < len(self._lines):
            return f"line {self._lines[index]}"
        return f"step {index + 1}"


def _step_lines(path: Path) -> list[int]:
    """The file line each item of ``steps:`` starts on, so failures point into the file."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


@dataclass
class Result:
    name: str
    file: str
    failures: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    language: str = DEFAULT_LANGUAGE

    @property
    def passed(self) -> bool:
        return not self.failures


START_TIME = 1_800_000_000.0  # the transcripts' clock starts here (2027-01-15) ...
DAY = 86400.0  # ... and moves only with ``wait_days``, never with the wall clock


class _SpeakingEngine(Engine):
    """The engine, starting every new person in the transcript's language."""

    def __init__(self, bundle: Bundle, config: dict[str, str], language: str) -> None:
        super().__init__(bundle, config)
        self.language = language

    def new_session(self, user_id: str, language: str = DEFAULT_LANGUAGE) -> Session:
        return super().new_session(user_id, self.language)


class _Speaker(Conversation):
    """A conversation in one language: the person's language is kept from turn to turn,
    also where the storage does not keep it, and follows a change the engine makes."""

    def __init__(
        self, engine: Engine, storage: Storage, user_id: str, clock: Any, language: str
    ) -> None:
        super().__init__(engine, storage, user_id, clock=clock)
        self.language = language

    @property
    def session(self) -> Session | None:
        found = self.storage.load_session(self.user_id)
        if found is not None and found.language != self.language:
            return replace(found, language=self.language)
        return found

    def _commit(self, outcome: Outcome) -> list[Reply]:
        self.language = outcome.session.language
        return super()._commit(outcome)


@dataclass
class _Player:
    """One language's run of a transcript."""

    language: str
    chat: _Speaker
    storage: Storage
    result: Result
    stopped: bool = False


def run_transcript(
    doc: TranscriptDoc, bundle: Bundle, file: str, storage: Storage | None = None
) -> Result:
    """The transcript in its first language."""
    storages = {doc.spoken()[0]: storage} if storage is not None else None
    return run_languages(doc, bundle, file, storages)[0]


def run_languages(
    doc: TranscriptDoc,
    bundle: Bundle,
    file: str,
    storages: dict[str, Storage] | None = None,
) -> list[Result]:
    """The transcript replayed in each of its languages, line by line (see the module)."""
    clock = [START_TIME]

    def now() -> float:
        return clock[0]

    several = len(doc.spoken()) > 1
    players = []
    for language in doc.spoken():
        storage = (storages or {}).get(language) or MemoryStorage()
        engine = _SpeakingEngine(bundle, doc.config, language)
        name = f"{doc.transcript} [{language}]" if several else doc.transcript
        players.append(
            _Player(
                language,
                _Speaker(engine, storage, doc.user, now, language),
                storage,
                Result(name, file, language=language),
            )
        )
    reference = players[0]
    for index, line in enumerate(doc.steps):
        if line.wait_days is not None:
            clock[0] += line.wait_days * DAY
            continue  # nothing is said: the next line acts at the later time
        pressed = ""
        for player in players:
            if player.stopped:
                continue
            where = doc.where(index)
            try:
                if line.send is not None:
                    text = line.send if isinstance(line.send, str) else line.send[player.language]
                    player.chat.send(text)
                    where += f" (send {text!r})"
                elif line.click is not None:
                    where += f" (click {_shown(line.click, player.language)!r})"
                    pressed = _click(line.click, player, reference, pressed)
                else:
                    where += " (restart)"
                    engine = _SpeakingEngine(bundle, doc.config, player.chat.language)
                    chat = _Speaker(engine, player.storage, doc.user, now, player.chat.language)
                    player.chat = chat
                    chat.resume()
            except ButtonNotOffered as error:
                player.result.failures.append(f"{where}: {error}")
                player.stopped = True
                continue
            player.result.visited |= player.chat.visited
            problems = _check(line, player.chat, player.language, reference.language)
            if player is not reference and not reference.stopped:
                problems += _same_buttons(player, reference)
            player.result.failures += [f"{where}: {problem}" for problem in problems]
    return [player.result for player in players]


def _shown(click: str | int | dict[str, str], language: str) -> str | int:
    if isinstance(click, dict):
        return click.get(language, "(the same button)")
    return click


def _click(
    click: str | int | dict[str, str], player: _Player, reference: _Player, pressed: str
) -> str:
    """Press the button and return its data: by position, by this language's label, or, in
    a language without its own label, the button the reference language pressed."""
    chat = player.chat
    offered = chat.offered()
    if isinstance(click, int):
        if not 1 <= click <= len(offered):
            raise ButtonNotOffered(f"no button number {click}; {len(offered)} are offered")
        data = offered[click - 1][1]
        chat.handle(Event.button(data))
        return data
    label = click.get(player.language) if isinstance(click, dict) else None
    if player is reference or label is not None:
        event = chat.button_event(label if label is not None else str(click))
        chat.handle(event)
        return event.data
    if not pressed:
        raise ButtonNotOffered(
            f"no label in {player.language} and none pressed in the first language"
        )
    if pressed not in [data for _, data in offered]:
        labels = ", ".join(repr(text) for text, _ in offered) or "none"
        raise ButtonNotOffered(
            f"the button pressed in {reference.language} is not offered in {player.language}; "
            f"offered: {labels}"
        )
    chat.handle(Event.button(pressed))
    return pressed


def _same_buttons(player: _Player, reference: _Player) -> list[str]:
    mine = [data for _, data in player.chat.offered()]
    theirs = [data for _, data in reference.chat.offered()]
    if mine == theirs:
        return []
    return [
        f"offers other buttons than in {reference.language}: "
        f"{[text for text, _ in player.chat.offered()]}"
    ]


def _fragments(value: Fragments, language: str, first: str) -> list[str]:
    """The fragments of ``value`` for ``language``: its own, or plain ones in the first."""
    if isinstance(value, dict):
        return value.get(language, [])
    return value if language == first else []


def _check(line: Line, chat: Conversation, language: str, first: str) -> list[str]:
    problems = []
    said = chat.text().casefold()
    for wanted in _fragments(line.expect, language, first):
        if wanted.casefold() not in said:
            problems.append(f"expected {wanted!r} in the reply, got: {_short(chat.text())}")
    for unwanted in _fragments(line.expect_not, language, first):
        if unwanted.casefold() in said:
            problems.append(f"did not expect {unwanted!r} in the reply: {_short(chat.text())}")
    labels = [label.casefold().removeprefix("✅ ") for label, _ in chat.offered()]
    for button in _fragments(line.buttons, language, first):
        if button.casefold() not in labels:
            problems.append(
                f"expected a button {button!r}; offered: {[text for text, _ in chat.offered()]}"
            )
    session = chat.session
    if line.step is not None and (session is None or session.step != line.step):
        problems.append(
            f"expected to be at step {line.step!r}, but at {session.step if session else None!r}"
        )
    for name, value in line.answers.items():
        got = session.answers.get(name, "<not saved>") if session else "<no session>"
        if got != value:
            problems.append(f"expected answer {name} = {value!r}, got {got!r}")
    return problems


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def load_transcripts(paths: Iterable[str | Path]) -> list[tuple[str, TranscriptDoc]]:
    found, problems = [], []
    for path in yaml_files(paths):
        try:
            document = read_yaml(path)
        except FlowError as error:
            problems.append(error)
            continue
        if document_kind(document) != "transcript":
            continue
        try:
            doc = TranscriptDoc.model_validate(document)
        except ValidationError as error:
            problems += validation_errors(str(path), error)
            continue
        doc._lines = _step_lines(path)
        found.append((str(path), doc))
    if problems:
        raise FlowErrors(problems)
    return found


def run(paths: list[str], out: TextIO) -> int:
    """Run every transcript under ``paths`` against the flows there; print a report."""
    try:
        bundle = load_bundle(paths)
        transcripts = load_transcripts(paths)
    except FlowErrors as errors:
        out.write(
            f"{errors}\n{len(errors.errors)} problem(s): fix them, then run the tests again.\n"
        )
        return 1
    if not transcripts:
        out.write("no transcript tests found (files starting with 'transcript:')\n")
        return 1
    visited: dict[str, set[str]] = {}
    failed = 0
    for file, doc in transcripts:
        # the real storage, so restarts reload from it
        sql = {code: SqlStorage(":memory:") for code in doc.spoken()}
        results = run_languages(doc, bundle, file, dict(sql))
        for storage in sql.values():
            storage.close()
        for result in results:
            visited.setdefault(result.language, set()).update(result.visited)
            mark = "PASS" if result.passed else "FAIL"
            out.write(f"{mark}  {result.name}  ({file})\n")
            for failure in result.failures:
                out.write(f"      {failure}\n")
            failed += not result.passed
    runs = sum(len(doc.spoken()) for _, doc in transcripts)
    out.write(f"\n{runs - failed} passed, {failed} failed\n")
    all_steps = {f"{f.id}:{s}" for f in bundle.flows.values() for s in f.steps}
    short = False
    for language in [code for code in SUPPORTED if code in visited]:
        missed = sorted(all_steps - visited[language])
        short = short or bool(missed)
        share = 100 * (len(all_steps) - len(missed)) / len(all_steps)
        named = "" if language == DEFAULT_LANGUAGE else f" ({language})"
        out.write(
            f"step coverage{named}: {share:.0f}% ({len(all_steps) - len(missed)} of "
            f"{len(all_steps)} steps)\n"
        )
        if missed:
            out.write(f"steps no transcript reaches{named}: " + ", ".join(missed) + "\n")
    for language in [code for code in SUPPORTED if code not in visited]:
        out.write(
            f"no transcript runs in {language}: give the main paths 'languages: "
            f"[{', '.join(SUPPORTED)}]'\n"
        )
    if short:
        out.write("every step must be reached in each language a transcript runs in\n")
    return 1 if failed or short else 0
