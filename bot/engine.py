"""The conversation engine: ``Engine.handle(session, event) -> Outcome``. Pure.

One ``transitions.Machine`` is built per flow, once, with no model bound to it. Each event
moves a throw-away cursor (the session's step and answers) through that machine, so the
cost per event does not grow with the number of people (see design.md). Everything the
engine needs comes in as arguments: no clock, no database, no Telegram.

Triggers on each flow's machine:
  ``advance``   from a step that goes on by itself or after an answer (next, or branches
                whose conditions transitions checks in order)
  ``b<i>``      the step's i-th button
  ``r:<cmd>``   a global route, from any step
Targets in another flow become exit states named ``@flow:step``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from transitions import EventData, Machine

from bot import answer_words, callbacks, safety, texts
from bot.actions import ACTION_ANSWERS, ACTIONS, CONSENT_ANSWER, TIMED, Action
from bot.content import PLACEHOLDER, TextKey, shipped_kit
from bot.localtime import match_timezone, timezone_label
from bot.model import (
    AnswerValue,
    Bundle,
    Condition,
    Effect,
    Event,
    Flow,
    Input,
    Message,
    Outcome,
    Reply,
    ReplyButton,
    Route,
    Session,
    Step,
    Target,
    Text,
    Tip,
    tip_pages,
)
from bot.telegram_html import escape

MAX_AUTO_HOPS = 25
WAY_OUT_AFTER = 3  # invalid answers in a row before the person is offered a way out
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\s)\s*")
_TIME = re.compile(r"^(\d{1,2})(?:[:.h ](\d{2}))?\s*(am|pm|a\.m\.?|p\.m\.?)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"^([+-]?\d{1,9})(?:\s*(?:/|out of)\s*10)?$")


_SESSION_FIELDS = tuple(f.name for f in fields(Session))
_new_object = object.__new__
_set_field = object.__setattr__


def _evolve(session: Session, **changes: Any) -> Session:
    """``dataclasses.replace`` for a Session, at half the cost: it runs on every event.

    Session is a frozen, slotted dataclass without ``__post_init__``, so copying its fields
    onto a new instance is all ``replace`` would do, without re-reading the field list.
    """
    copy = _new_object(Session)
    for name in _SESSION_FIELDS:
        _set_field(copy, name, changes[name] if name in changes else getattr(session, name))
    return copy


class _Cursor:
    """The only model transitions ever sees: a step and the answers, for one event."""

    __slots__ = ("answers", "state")

    def __init__(self, state: str, answers: Mapping[str, AnswerValue]) -> None:
        self.state = state
        self.answers = answers


def _exit_state(target: Target) -> str:
    return f"@{target.flow}:{target.step}"


def _condition_check(condition: Condition) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        cursor: _Cursor = event.model  # type: ignore[assignment]
        return condition.holds(cursor.answers)

    return check


def build_machine(flow: Flow) -> Machine:
    """The state machine of one flow: built once, shared by every conversation."""

    def dest(target: Target) -> str:
        return target.step if target.flow == flow.id else _exit_state(target)

    states = set(flow.steps)
    moves: list[dict[str, Any]] = []
    for step in flow.steps.values():
        for index, button in enumerate(step.buttons):
            moves.append({"trigger": f"b{index}", "source": step.id, "dest": dest(button.go)})
        if step.next is not None:
            moves.append({"trigger": "advance", "source": step.id, "dest": dest(step.next)})
        for branch in step.branches:
            move: dict[str, Any] = {
                "trigger": "advance",
                "source": step.id,
                "dest": dest(branch.go),
            }
            if branch.condition is not None:
                move["conditions"] = [_condition_check(branch.condition)]
            moves.append(move)
    for route in flow.routes:
        moves.append({"trigger": f"r:{route.command}", "source": "*", "dest": dest(route.go)})
    states |= {move["dest"] for move in moves}
    return Machine(
        model=None,
        states=sorted(states),
        transitions=moves,
        initial=flow.start,
        auto_transitions=False,
        ignore_invalid_triggers=True,
        send_event=True,
    )


@dataclass
class _Turn:
    """What one event does, gathered while the engine works."""

    session: Session
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    chosen: str | None = None
    visited: list[str] = field(default_factory=list)
    now: float = 0.0  # the event's time (``Event.at``); 0 when the adapter gave none

    def outcome(self) -> Outcome:
        changed = _evolve(self.session, revision=self.session.revision + 1)
        return Outcome(
            changed, tuple(self.replies), tuple(self.effects), self.chosen, tuple(self.visited)
        )


class Engine:
    """Runs validated flows. Safe to share between conversations and threads."""

    def __init__(
        self,
        bundle: Bundle,
        config: Mapping[str, str] | None = None,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        self.bundle = bundle
        self.config = {
            "emergency_number": "112",
            "urgent_care": "your doctor",
            **(config or {}),
        }
        self.actions = dict(ACTIONS if actions is None else actions)
        self.machines = {flow_id: build_machine(flow) for flow_id, flow in bundle.flows.items()}
        self.routes = bundle.routes()
        self.kit = bundle.kit if bundle.kit is not None else shipped_kit()
        self.consent = bundle.policy.consent if bundle.policy is not None else None
        self._needs_consent = self._consent_steps()  # (flow, step) of gated questions
        # (flow, version, step, language) -> keyboard; bounded by the steps and languages
        self._keyboards: dict[tuple[str, int, str, str], tuple[tuple[ReplyButton, ...], ...]] = {}
        self.aliases = {alias: r for r in self.routes.values() for alias in r.aliases}
        self.questions = {
            step.input.save: step.input
            for flow in bundle.flows.values()
            for step in flow.steps.values()
            if step.input is not None
        }

    # ------------------------------------------------------------ public

    def new_session(self, user_id: str, language: str = "en") -> Session:
        flow = self.bundle.flows[self.bundle.entry]
        return Session(user_id, flow.id, flow.version, flow.start, language=language)

    def handle(
        self, session: Session | None, event: Event, user_id: str = "", language: str = "en"
    ) -> Outcome:
        """Apply one event to a session and say what follows. Never raises for bad input.
        ``language``: a new person's (their channel's hint); a session keeps its own."""
        if session is None:
            turn = _Turn(self.new_session(user_id, language), now=event.at)
            if not self._opens_chat(event):
                event = Event("start", at=event.at)
        else:
            turn = _Turn(safety.expire(session, event.at), now=event.at)
            # a press or a text was meant for the old step; start, commands and timers name
            # where they go, so they still count after the move
            if self._migrate(turn, show=event.kind in ("button", "text")):
                return turn.outcome()
        match event.kind:
            case "start":
                self._start(turn, event.payload)
            case "command":
                self._command(turn, event.command, event.args)
            case "button":
                self._button(turn, event.data)
            case "text":
                self._text(turn, event.text)
            case "timer":
                self._timer(turn, event.timer)
        return turn.outcome()

    def repeat(self, session: Session) -> Outcome:
        """Show the current step again (for someone coming back), changing nothing else."""
        turn = _Turn(session)
        if not self._migrate(turn, show=True):
            self._prompt_again(turn, count_failure=False)
            step = self.step_of(turn.session)
            if step.image and turn.replies:  # the step's picture comes back with it
                alt = step.alt.get(turn.session.language) if step.alt else ""
                turn.replies[0] = replace(turn.replies[0], image=step.image, alt=alt)
        return turn.outcome()

    def _opens_chat(self, event: Event) -> bool:
        """Whether a new person's first event can be taken as it is (else it starts the chat)."""
        if event.kind == "start":
            return True
        name = event.command.casefold()
        return event.kind == "command" and (name == "start" or name in self.routes)

    def step_of(self, session: Session) -> Step:
        return self.bundle.flows[session.flow].steps[session.step]

    # ------------------------------------------------------------ events

    def _start(self, turn: Turn, payload: str) -> None:
        turn.effects.append(Effect("started", {"payload": payload}))
        entry = self.bundle.flows[self.bundle.entry]
        self._go(turn, Target(entry.id, entry.start))

    def _command(self, turn: Turn, name: str, args: str) -> None:
        name = name.casefold()
        if name == "start":
            self._start(turn, args)
        elif name in self.routes:
            self._route(turn, self.routes[name])
        else:
            turn.replies.append(self._note(turn, texts.UNKNOWN_COMMAND))
            self._prompt_again(turn)  # its re-ask shows the way to urgent help

    def _route(self, turn: Turn, route: Route) -> None:
        flow = self.bundle.flows[turn.session.flow]
        target = self._fire(turn, flow, f"r:{route.command}")
        self._go(turn, target or route.go)

    def _timer(self, turn: Turn, name: str) -> None:
        flow_id, _, step_id = name.partition(":")
        flow = self.bundle.flows.get(flow_id)
        if flow is not None and step_id in flow.steps:
            self._go(turn, Target(flow_id, step_id))

    def _button(self, turn: Turn, data: str) -> None:
        press = callbacks.decode(data)
        session = turn.session
        if isinstance(press, callbacks.RoutePress) and press.command in self.routes:
            self._route(turn, self.routes[press.command])
            return
        step = self.step_of(session)
        if (
            not isinstance(press, callbacks.StepPress)
            or (press.flow, press.version, press.step)
            != (session.flow, session.version, session.step)
            or not self._press(turn, step, press.kind, press.index)
        ):
            turn.replies.append(self._note(turn, texts.STALE_BUTTON))
            self._prompt_again(turn, count_failure=False)

    def _press(self, turn: Turn, step: Step, kind: str, index: int) -> bool:
        """Act on a press of the current step's button; False if there is no such button."""
        question = step.input
        if kind == "b" and 0 <= index < len(step.buttons):
            turn.chosen = step.buttons[index].label.get(turn.session.language)
            flow = self.bundle.flows[turn.session.flow]
            self._go(turn, self._fire(turn, flow, f"b{index}") or step.buttons[index].go)
            return True
        if kind == "m":
            return self._more_tips(turn, step)
        if question is None:
            return False
        if question.kind == "multi":
            return self._press_multi(turn, question, kind, index)
        values = _button_values(question)
        if kind == "o" and 0 <= index < len(values):
            turn.chosen = self._display(question, values[index], turn.session.language)
            self._answer(turn, question, values[index])
            return True
        return False

    def _press_multi(self, turn: Turn, question: Input, kind: str, index: int) -> bool:
        picked = list(turn.session.picked)
        language = turn.session.language
        if kind == "o" and 0 <= index < len(question.options):
            value = question.options[index].value
            picked = [v for v in picked if v != value] if value in picked else [*picked, value]
            turn.session = _evolve(turn.session, picked=tuple(picked))
            turn.replies.append(replace(self._question_reply(turn, question), edit=True))
            return True
        if kind == "d":
            turn.chosen = self._display(question, picked, language)
            self._answer(turn, question, picked)
            return True
        if kind == "n":
            turn.chosen = (question.none_label or self.text(texts.NONE_OF_THESE)).get(language)
            self._answer(turn, question, [])
            return True
        return False

    def _text(self, turn: Turn, raw: str) -> None:
        text = _INVISIBLE.sub("", raw).strip()
        if self._safety_net(turn, text):
            return
        step = self.step_of(turn.session)
        question = step.input
        if question is not None and question.kind == "multi":
            kind = _multi_word(question, text, self.text(texts.DONE), turn.session.language)
            if kind is not None:
                self._press_multi(turn, question, kind, 0)
                return
        if question is not None and question.kind == "text":
            self._typed_answer(turn, step, question, text)
            return
        if question is not None:
            value = self._parse(question, text, turn.session.language)
            if value is not None:
                if isinstance(value, list) and value:  # typed choices add to the ticked ones
                    ticked = list(turn.session.picked)
                    value = ticked + [v for v in value if v not in ticked]
                self._answer(turn, question, value)
                return
        index = _match_label(text, [b.label.get(turn.session.language) for b in step.buttons])
        if index is not None:
            self._press(turn, step, "b", index)
            return
        more = step.tips.more if step.tips is not None else None
        typed_more = more is not None and _match_label(text, [more.get(turn.session.language)])
        if typed_more == 0 and self._more_tips(turn, step):
            return
        alias = self.aliases.get(text.casefold())
        if alias is not None:
            self._route(turn, alias)
            return
        if not step.waits:
            turn.replies.append(
                self._urgent_noted(
                    turn,
                    self._note(turn, texts.AT_END, self._way_out_buttons(turn.session.language)),
                )
            )
            return
        self._prompt_again(turn)

    def _typed_answer(self, turn: Turn, step: Step, question: Input, text: str) -> None:
        """A 'text' question: a button's label presses it; other words are the answer when
        they fit (``typed_text``), else the step's re-ask."""
        index = _match_label(text, [b.label.get(turn.session.language) for b in step.buttons])
        if index is not None:
            self._press(turn, step, "b", index)
            return
        value = typed_text(text, question.maximum)
        if value is None:
            self._prompt_again(turn)
            return
        self._answer(turn, question, value)

    def _safety_net(self, turn: Turn, text: str) -> bool:
        """Typed words that suggest an emergency: offer the urgent screen and the number at
        once (bot.safety, flows/safety.yaml), then show the current step again."""
        net = self.bundle.safety
        if net is None or not net.alarm(text):
            return False
        language = turn.session.language
        rows: tuple[tuple[ReplyButton, ...], ...] = ()
        if net.route in self.routes:
            rows = ((ReplyButton(net.button.get(language), callbacks.encode_route(net.route)),),)
        turn.replies.append(Reply(self._render(net.say, turn.session), rows, turn.session.step))
        self._prompt_again(turn, count_failure=False)
        return True

    def _urgent_noted(self, turn: Turn, reply: Reply) -> Reply:
        """A "did not understand" reply with the way to urgent help under it."""
        return replace(reply, text=self.with_urgent_note(turn.session, reply.text))

    def with_urgent_note(self, session: Session, text: str) -> str:
        """``text`` with the way to urgent help under it (adapters' "I can't read that")."""
        net = self.bundle.safety
        if net is None:
            return text
        return f"{text}\n\n{self._render(net.urgent_note, session)}"

    # ------------------------------------------------------------ moving

    def _answer(self, turn: Turn, question: Input, value: AnswerValue) -> None:
        session = turn.session
        if (session.flow, session.step) in self._needs_consent and not self._consented(session):
            self._go(turn, Target(session.flow, session.step))  # asked before the policy
            return  # changed: the gate takes them to agree again first
        answers = {**session.answers, question.save: value}
        turn.session = _evolve(session, answers=answers, failures=0, picked=())
        if question.audit:
            turn.effects.append(
                Effect(
                    "answer_audited", {"name": question.save, "value": value, "step": session.step}
                )
            )
        flow = self.bundle.flows[turn.session.flow]
        target = self._fire(turn, flow, "advance")
        if target is not None:
            self._go(turn, target)
        else:  # the step goes on by its buttons only: show them again, never say nothing
            self._prompt_again(turn, count_failure=False)

    def _fire(self, turn: Turn, flow: Flow, trigger: str) -> Target | None:
        """Let transitions pick the next state from the current step; None if none fits."""
        event = self.machines[flow.id].events.get(trigger)
        if event is None:
            return None
        cursor = _Cursor(turn.session.step, turn.session.answers)
        if not event.trigger(cursor):
            return None
        state: str = cursor.state
        if state.startswith("@"):
            other, _, step = state[1:].partition(":")
            return Target(other, step)
        return Target(flow.id, state)

    def _go(self, turn: Turn, target: Target) -> None:
        for _ in range(MAX_AUTO_HOPS):
            if self._needs_consent:
                target = self._consent_gate(turn.session, target)
            flow = self.bundle.flows[target.flow]
            step = flow.steps[target.step or flow.start]
            turn.session = _evolve(
                turn.session,
                flow=flow.id,
                version=flow.version,
                step=step.id,
                failures=0,
                picked=(),
            )
            turn.visited.append(f"{flow.id}:{step.id}")
            self._enter(turn, step)
            if step.waits or step.end:
                return
            following = self._fire(turn, flow, "advance")
            if following is None:
                return
            target = following

    # ------------------------------------------------------------ consent (bot.privacy)

    def _consent_steps(self) -> frozenset[tuple[str, str]]:
        """Steps whose question needs consent (``needs_consent``). A flow's start is also
        listed under the step name ''."""
        rule = self.consent
        if rule is None:
            return frozenset()
        found = set()
        for flow in self.bundle.flows.values():
            for step in flow.steps.values():
                if step.input is not None and step.needs_consent:
                    found.add((flow.id, step.id))
                    if step.id == flow.start:
                        found.add((flow.id, ""))
        return frozenset(found)

    def _consented(self, session: Session) -> bool:
        """Whether the person agreed to the current policy version (``record_consent``)."""
        agreed = session.answers.get(CONSENT_ANSWER)
        rule = self.consent
        return rule is not None and isinstance(agreed, int) and agreed >= rule.version

    def _consent_gate(self, session: Session, target: Target) -> Target:
        """The policy's consent step instead of a question that needs consent, when the
        person has not agreed to this version; else ``target`` itself."""
        if (target.flow, target.step) not in self._needs_consent or self._consented(session):
            return target
        assert self.consent is not None
        return self.consent.ask

    def _enter(self, turn: Turn, step: Step) -> None:
        for call in step.actions:
            args = {**call.args, "now": turn.now} if call.name in TIMED else call.args
            result = self.actions[call.name](turn.session, args)
            turn.session = safety.remember(result.session, result.effects, step.id, turn.now)
            turn.effects.extend(
                replace(e, args={**e.args, "step": step.id}) for e in result.effects
            )
        said = self._say(turn, step.say)
        if step.tips is not None:
            said += self._tips(turn, step)
        first = len(turn.replies)
        if not step.waits:
            turn.replies.extend(Reply(text, step=step.id) for text in said)
        else:  # the buttons go under the last message
            last = said.pop() if said else self.text(texts.PICK_A_BUTTON).get(turn.session.language)
            turn.replies.extend(Reply(text, step=step.id) for text in said)
            turn.replies.append(Reply(last, self._keyboard(turn, step), step.id))
        if step.image and first < len(turn.replies):  # the picture goes with the first message
            alt = step.alt.get(turn.session.language) if step.alt else ""
            turn.replies[first] = replace(turn.replies[first], image=step.image, alt=alt)

    def _migrate(self, turn: Turn, show: bool) -> bool:
        """Bring a session onto the current flow version. True if the event is used up.

        When the step is gone and no ``moved:`` entry covers it, the person lands on the
        flow's resume step; with ``show`` they are told so and shown it (the event is used
        up), else only the session moves and the event goes on from there.
        """
        session = turn.session
        flow = self.bundle.flows.get(session.flow)
        if flow is not None and session.step in flow.steps:
            if session.version != flow.version:
                turn.session = _evolve(session, version=flow.version)
            return False
        moved = flow.moved.get(session.step) if flow is not None else None
        if moved is not None:
            other = self.bundle.flows[moved.flow]
            step = moved.step or other.start
            turn.session = replace(session, flow=other.id, version=other.version, step=step)
            return False
        home = flow or self.bundle.flows[self.bundle.entry]
        if not show:
            turn.session = replace(
                session, flow=home.id, version=home.version, step=home.resume, failures=0, picked=()
            )
            return False
        turn.replies.append(self._note(turn, texts.FLOW_CHANGED))
        self._go(turn, Target(home.id, home.resume))
        return True

    # ------------------------------------------------------------ rendering

    def _render(self, text: Text, session: Session) -> str:
        raw = text.get(session.language)
        if "{" not in raw:
            return raw
        return PLACEHOLDER.sub(lambda m: self._placeholder(m.group(1), session), raw)

    def _placeholder(self, name: str, session: Session) -> str:
        language = session.language
        if name in self.config:  # the deployment's: the number as it is, words translated
            return escape(texts.configured(name, self.config[name], language))
        value = session.answers.get(name)
        question = self.questions.get(name)
        if name in ACTION_ANSWERS and isinstance(value, str | int) and not isinstance(value, bool):
            return escape(str(value))  # saved by an action (bot.actions), no question to word it
        if value is None or question is None:
            return self.text(texts.NOT_ANSWERED).get(language)
        return escape(self._display(question, value, language))

    def _display(self, question: Input, value: AnswerValue, language: str) -> str:
        """An answer as plain text, in the words of its labels (escape it for HTML)."""
        labels = {option.value: option.label.get(language) for option in question.options}
        if question.kind == "timezone" and isinstance(value, str):
            return timezone_label(match_timezone(value) or value)
        if isinstance(value, bool):
            return self.text(texts.YES if value else texts.NO).get(language)
        if isinstance(value, list):
            if not value:
                return (question.none_label or self.text(texts.NONE_OF_THESE)).get(language)
            return ", ".join(labels.get(v, v) for v in value)
        if isinstance(value, str) and value in labels:
            return labels[value]
        return str(value)

    def _say(self, turn: Turn, messages: Iterable[Message]) -> list[str]:
        return [
            self._render(m.text, turn.session)
            for m in messages
            if m.condition is None or m.condition.holds(turn.session.answers)
        ]

    def _tip_pages(self, session: Session, step: Step) -> list[list[Tip]]:
        assert step.tips is not None
        catalog = self.bundle.catalogs[step.tips.catalog]
        return tip_pages(catalog.offer(session.answers), step.tips.limit)

    def _tips(self, turn: Turn, step: Step) -> list[str]:
        """The first message of tips (after the intro). A later page shown is kept in the
        answers (``TIPS_PAGE``, only once "More tips" was pressed) to show the next one."""
        assert step.tips is not None
        pages = self._tip_pages(turn.session, step)
        if TIPS_PAGE in turn.session.answers:  # a new visit starts at the first tips
            answers = {k: v for k, v in turn.session.answers.items() if k != TIPS_PAGE}
            turn.session = _evolve(turn.session, answers=answers)
        if not pages:
            return self._say(turn, step.tips.none)
        lines = [f"• {self._render(tip.text, turn.session)}" for tip in pages[0]]
        head = self._say(turn, step.tips.intro)
        return [*head[:-1], "\n\n".join(head[-1:] + lines)]

    def _more_tips(self, turn: Turn, step: Step) -> bool:
        """Show the next message of tips at a tips step; False if there is none left."""
        if step.tips is None or step.tips.more is None or not self._tips_left(turn.session, step):
            return False
        page = _page(turn.session) + 1
        turn.session = _evolve(turn.session.with_answer(TIPS_PAGE, page), failures=0, picked=())
        turn.chosen = step.tips.more.get(turn.session.language)
        tips = self._tip_pages(turn.session, step)[page]
        text = "\n\n".join(f"• {self._render(tip.text, turn.session)}" for tip in tips)
        turn.replies.append(Reply(text, self._keyboard(turn, step), step.id))
        return True

    def _tips_left(self, session: Session, step: Step) -> bool:
        return _page(session) + 1 < len(self._tip_pages(session, step))

    def _keyboard(self, turn: Turn, step: Step) -> tuple[tuple[ReplyButton, ...], ...]:
        """The step's buttons, under a "More tips" button while tips are left to show."""
        rows = self._buttons(turn, step)
        more = step.tips.more if step.tips is not None else None
        if more is None or not self._tips_left(turn.session, step):
            return rows
        session = turn.session
        data = callbacks.encode_step(session.flow, session.version, step.id, "m", 0)
        return ((ReplyButton(more.get(session.language), data),), *rows)

    def _buttons(self, turn: Turn, step: Step) -> tuple[tuple[ReplyButton, ...], ...]:
        """The step's keyboard; the same for everyone at a step, so built once per language
        (unless it shows what this person has ticked so far)."""
        session = turn.session
        if session.picked:
            return self._build_buttons(turn, step)
        key = (session.flow, session.version, step.id, session.language)
        rows = self._keyboards.get(key)
        if rows is None:
            rows = self._keyboards[key] = self._build_buttons(turn, step)
        return rows

    def _build_buttons(self, turn: Turn, step: Step) -> tuple[tuple[ReplyButton, ...], ...]:
        session = turn.session
        language = session.language

        def data(kind: str, index: int) -> str:
            return callbacks.encode_step(session.flow, session.version, step.id, kind, index)

        rows: list[tuple[ReplyButton, ...]] = []
        question = step.input
        if question is not None:
            labels = self._option_labels(question, session)
            one_row = question.kind == "yes_no" or question.kind == "integer"
            buttons = [ReplyButton(label, data("o", i)) for i, label in enumerate(labels)]
            size = 6 if question.kind == "integer" else (2 if one_row else 1)
            rows += [tuple(buttons[i : i + size]) for i in range(0, len(buttons), size)]
            if question.kind == "multi":
                rows.append(
                    (
                        ReplyButton(
                            (question.done_label or self.text(texts.DONE)).get(language),
                            data("d", 0),
                        ),
                    )
                )
                if question.none_label is not None:
                    rows.append((ReplyButton(question.none_label.get(language), data("n", 0)),))
        rows += [
            (ReplyButton(button.label.get(language), data("b", i)),)
            for i, button in enumerate(step.buttons)
        ]
        return tuple(rows)

    def _option_labels(self, question: Input, session: Session) -> list[str]:
        language = session.language
        if question.kind == "yes_no":
            return [self.text(texts.YES).get(language), self.text(texts.NO).get(language)]
        if question.kind == "integer":
            return [str(v) for v in _button_values(question)]
        labels = [option.label.get(language) for option in question.options]
        if question.kind == "multi":
            picked = set(session.picked)
            return [
                f"✅ {label}" if option.value in picked else label
                for option, label in zip(question.options, labels, strict=True)
            ]
        return labels

    def _question_reply(self, turn: Turn, question: Input) -> Reply:
        step = self.step_of(turn.session)
        said = self._say(turn, step.say)
        text = said[-1] if said else self.text(texts.PICK_A_BUTTON).get(turn.session.language)
        return Reply(text, self._keyboard(turn, step), step.id)

    def _prompt_again(self, turn: Turn, count_failure: bool = True) -> None:
        """Re-ask the current step: its own re-ask text and its buttons again."""
        step = self.step_of(turn.session)
        language = turn.session.language
        if count_failure:
            turn.session = _evolve(turn.session, failures=turn.session.failures + 1)
        if not step.waits:
            note = self._note(turn, texts.AT_END, self._way_out_buttons(turn.session.language))
            turn.replies.append(self._urgent_noted(turn, note) if count_failure else note)
            return
        question = step.input
        said = self._say(turn, question.reask) if question is not None and count_failure else []
        if not said and count_failure:
            said = [self._default_reask(question, language)]
        if not count_failure:
            said = self._say(turn, step.say)[-1:] or [self.text(texts.PICK_A_BUTTON).get(language)]
        reply = Reply("\n\n".join(said), self._keyboard(turn, step), step.id)
        turn.replies.append(self._urgent_noted(turn, reply) if count_failure else reply)
        if turn.session.failures >= WAY_OUT_AFTER:
            turn.replies.append(
                self._note(turn, texts.WAY_OUT, self._way_out_buttons(turn.session.language))
            )

    def _default_reask(self, question: Input | None, language: str) -> str:
        if question is None:
            return self.text(texts.PICK_A_BUTTON).get(language)
        match question.kind:
            case "integer":
                template = self.text(texts.REASK_INTEGER).get(language)
                return template.format(min=question.minimum, max=question.maximum)
            case "time":
                return self.text(texts.REASK_TIME).get(language)
            case "yes_no":
                return self.text(texts.REASK_YES_NO).get(language)
            case "multi":
                return self.text(texts.REASK_MULTI).get(language)
        return self.text(texts.REASK_CHOICE).get(language)

    def _way_out_buttons(self, language: str) -> tuple[tuple[ReplyButton, ...], ...]:
        rows = []
        for command, default in (("menu", texts.MENU), ("help", texts.HELP)):
            route = self.routes.get(command)
            if route is not None:
                label = self.text(default).get(language)
                rows.append((ReplyButton(label, callbacks.encode_route(command)),))
        return tuple(rows)

    def _note(
        self, turn: Turn, key: TextKey, buttons: tuple[tuple[ReplyButton, ...], ...] = ()
    ) -> Reply:
        return Reply(self.text(key).get(turn.session.language), buttons, turn.session.step)

    def text(self, key: TextKey) -> Text:
        """One of the texts code says (``bot.texts``), from the bundle's content kit."""
        return self.kit.text(key)

    # ------------------------------------------------------------ parsing typed answers

    def _parse(self, question: Input, text: str, language: str) -> AnswerValue | None:
        folded = text.casefold().strip(" .!")
        match question.kind:
            case "integer":
                match = _NUMBER.match(answer_words.number(folded, language))
                if match is None:
                    return None
                number = int(match.group(1))
                low, high = question.minimum, question.maximum
                inside = (low is None or number >= low) and (high is None or number <= high)
                return number if inside else None
            case "yes_no":
                said = answer_words.yes_no(folded, language)
                if said is None:  # the buttons' own words, their number
                    labels = [self.text(texts.YES).get(language), self.text(texts.NO).get(language)]
                    index = _match_label(text, labels)
                    said = None if index is None else index == 0
                return said
            case "time":
                return _parse_time(answer_words.time_text(folded, language))
            case "timezone":  # an option, or a city / IANA name / UTC offset as an IANA name
                index = _match_label(text, [o.label.get(language) for o in question.options])
                return question.options[index].value if index is not None else match_timezone(text)
            case "choice":
                index = _match_label(text, [o.label.get(language) for o in question.options])
                if index is None:
                    index = _match_label(text, [o.value for o in question.options])
                return question.options[index].value if index is not None else None
            case "multi":
                return self._parse_multi(question, folded, language)
            case "text":
                return typed_text(text, question.maximum)
        return None  # pragma: no cover

    def _parse_multi(self, question: Input, folded: str, language: str) -> list[str] | None:
        if folded in answer_words.none_words(language):
            return []
        picked: list[str] = []
        labels = [o.label.get(language).casefold() for o in question.options]
        whole = _match_label(folded, labels)
        joining = answer_words.and_words(language)  # "and", "y", "und": between the choices
        split = [p for p in _SPLIT.split(folded) if p and p not in joining]
        parts = [folded] if whole is not None else split
        for part in parts:
            index = _match_label(part, labels)
            if index is None:
                return None
            value = question.options[index].value
            if value not in picked:
                picked.append(value)
        return picked or None


Turn = _Turn

# The message of tips last shown at a tips step (0 the first). Like ``_consent`` it is not
# a valid answer name in a flow, so no flow can save or test it; clearing answers drops it.
TIPS_PAGE = "_tips_page"


def typed_text(text: str, limit: int | None) -> str | None:
    """A typed answer as it is kept: control characters and runs of spaces become one space,
    trimmed; None when nothing is left or it is longer than ``limit`` characters."""
    cleaned = " ".join(_CONTROL.sub(" ", _INVISIBLE.sub("", text)).split())
    if not cleaned or (limit is not None and len(cleaned) > limit):
        return None
    return cleaned


def _page(session: Session) -> int:
    page = session.answers.get(TIPS_PAGE)
    return page if isinstance(page, int) and not isinstance(page, bool) else 0


def _button_values(question: Input) -> list[AnswerValue]:
    if question.kind == "yes_no":
        return [True, False]
    if question.kind == "integer":
        low, high = question.minimum, question.maximum
        if low is not None and high is not None and high - low <= 10:
            return list(range(low, high + 1))
        return []
    return [option.value for option in question.options]


def _multi_word(question: Input, text: str, done: Text, language: str) -> str | None:
    """'d' or 'n' when a person types the Done or None-of-these button's words."""
    folded = text.casefold().strip(" .!")
    if folded == (question.done_label or done).get(language).casefold():
        return "d"
    if question.none_label is not None and folded == question.none_label.get(language).casefold():
        return "n"
    return None


def _match_label(text: str, labels: list[str]) -> int | None:
    """Index of the label a typed text names: its number (1-based) or the label itself."""
    folded = _INVISIBLE.sub("", text).casefold().strip(" .!")
    number = callbacks.small_number(folded)
    if number is not None:
        return number - 1 if 1 <= number <= len(labels) else None
    for index, label in enumerate(labels):
        if folded == _strip_markup(label).casefold():
            return index
    return None


def _strip_markup(label: str) -> str:
    return label.removeprefix("✅ ").strip()


def _parse_time(folded: str) -> str | None:
    match = _TIME.match(folded.replace(" ", "") if ":" in folded else folded)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"
