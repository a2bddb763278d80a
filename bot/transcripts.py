"""``hipbot test``: transcript tests written in YAML, run on the real engine and actions.

A transcript is a list of actions (send a text or command, click a button, restart) with
what the bot's replies to that action must and must not contain. The runner reports
pass/fail per transcript and which steps no transcript reached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from bot.authoring import document_kind, read_yaml, validation_errors, yaml_files
from bot.conversation import ButtonNotOffered, Conversation
from bot.engine import Engine
from bot.errors import FlowError, FlowErrors
from bot.loader import load_bundle
from bot.model import Bundle
from bot.storage import MemoryStorage, SqlStorage, Storage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Line(_Strict):
    send: str | None = None
    click: str | None = None
    restart: bool | None = None
    wait_days: float | None = Field(default=None, gt=0)  # move the transcript's clock on
    expect: list[str] = Field(default_factory=list)
    expect_not: list[str] = Field(default_factory=list)
    buttons: list[str] = Field(default_factory=list)
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
    steps: list[Line] = Field(min_length=1)
    _lines: list[int] = PrivateAttr(default_factory=list)  # file line of each step

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

    @property
    def passed(self) -> bool:
        return not self.failures


START_TIME = 1_800_000_000.0  # the transcripts' clock starts here (2027-01-15) ...
DAY = 86400.0  # ... and moves only with ``wait_days``, never with the wall clock


def run_transcript(
    doc: TranscriptDoc, bundle: Bundle, file: str, storage: Storage | None = None
) -> Result:
    engine = Engine(bundle, doc.config)
    storage = storage or MemoryStorage()
    result = Result(doc.transcript, file)
    clock = [START_TIME]

    def now() -> float:
        return clock[0]

    chat = Conversation(engine, storage, doc.user, clock=now)
    for index, line in enumerate(doc.steps):
        where = doc.where(index)
        try:
            if line.send is not None:
                chat.send(line.send)
                where += f" (send {line.send!r})"
            elif line.click is not None:
                where += f" (click {line.click!r})"
                chat.click(line.click)
            elif line.wait_days is not None:
                where += f" (wait {line.wait_days:g} days)"
                clock[0] += line.wait_days * DAY
                continue  # nothing is said: the next line acts at the later time
            else:
                where += " (restart)"
                chat = Conversation(Engine(bundle, doc.config), storage, doc.user, clock=now)
                chat.resume()
        except ButtonNotOffered as error:
            result.failures.append(f"{where}: {error}")
            break
        result.visited |= chat.visited
        result.failures += [f"{where}: {problem}" for problem in _check(line, chat)]
    return result


def _check(line: Line, chat: Conversation) -> list[str]:
    problems = []
    said = chat.text().casefold()
    for wanted in line.expect:
        if wanted.casefold() not in said:
            problems.append(f"expected {wanted!r} in the reply, got: {_short(chat.text())}")
    for unwanted in line.expect_not:
        if unwanted.casefold() in said:
            problems.append(f"did not expect {unwanted!r} in the reply: {_short(chat.text())}")
    labels = [label.casefold().removeprefix("✅ ") for label, _ in chat.offered()]
    for button in line.buttons:
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
    visited: set[str] = set()
    failed = 0
    for file, doc in transcripts:
        storage = SqlStorage(":memory:")  # the real storage, so restarts reload from it
        result = run_transcript(doc, bundle, file, storage)
        storage.close()
        visited |= result.visited
        mark = "PASS" if result.passed else "FAIL"
        out.write(f"{mark}  {doc.transcript}  ({file})\n")
        for failure in result.failures:
            out.write(f"      {failure}\n")
        failed += not result.passed
    all_steps = {f"{f.id}:{s}" for f in bundle.flows.values() for s in f.steps}
    missed = sorted(all_steps - visited)
    share = 100 * (len(all_steps) - len(missed)) / len(all_steps)
    out.write(f"\n{len(transcripts) - failed} passed, {failed} failed\n")
    out.write(
        f"step coverage: {share:.0f}% ({len(all_steps) - len(missed)} of {len(all_steps)} steps)\n"
    )
    if missed:
        out.write("steps no transcript reaches: " + ", ".join(missed) + "\n")
    return 1 if failed else 0
