"""The bot's privacy policy and the pure parts of privacy: no database, no clock, no I/O.

The policy is a YAML document of its own kind (``policy:``, ``flows/privacy.yaml``), checked
by ``hipbot validate`` like a flow and measured by ``hipbot lint``. It says, in plain words,
what is kept, why, for how long and who can see it, and how to use each right. It also
holds the consent rule the engine applies:

* ``version``: consent is stored with the version the person agreed to. When the version
  goes up, a question marked ``needs_consent`` in its flow is not asked (and an answer to one on
  screen is not saved) until the person has agreed again at ``consent.ask``. The engine
  checks this (``Engine._consent_gate``), so it holds for every way into a question: a
  button, a command, a reminder's timer.
* The flow's ``record_consent`` action names the version its consent text was written for
  (``with: {policy_version: N}``); validation fails when that is not the policy's version,
  so the consent wording is looked at whenever the policy changes.

Texts may use ``{retention_days}``, ``{version}`` and ``{updated}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from bot import schema
from bot.authoring import Builder, DocumentKind, Loading, check_texts, validation_errors
from bot.errors import FlowError
from bot.model import DEFAULT_LANGUAGE, ConsentRule, Flow, Policy, PolicyItem, Right, Target, Text

POLICY_KIND = "policy"
PLACEHOLDERS = frozenset({"retention_days", "version", "updated"})
RETENTION_ENV = "HIPBOT_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 365
DAY = 86400.0


# ---------------------------------------------------------------- the policy


def build_policy(file: str, document: Any) -> tuple[Policy | None, list[FlowError]]:
    """A ``policy:`` document as a Policy, with every problem found (texts included)."""
    try:
        doc = schema.PolicyDoc.model_validate(document)
    except ValidationError as error:
        return None, validation_errors(file, error)
    b = Builder(file)
    items = tuple(
        PolicyItem(
            *(
                b.text(getattr(item, part), ["data", index, part])
                for part in ("what", "why", "kept", "seen_by")
            )
        )
        for index, item in enumerate(doc.data)
    )
    flow, _, step = doc.consent.ask.partition(":")
    policy = Policy(
        id=doc.policy,
        version=doc.version,
        updated=doc.updated,
        topic=doc.topic,
        title=b.text(doc.title, ["title"]),
        intro=tuple(b.text(text, ["intro", i]) for i, text in enumerate(doc.intro)),
        items=items,
        rights_intro=b.text(doc.rights_intro, ["rights_intro"]),
        rights=tuple(
            Right(right.command, b.text(right.text, ["rights", i, "text"]))
            for i, right in enumerate(doc.rights)
        ),
        outro=tuple(b.text(text, ["outro", i]) for i, text in enumerate(doc.outro)),
        consent=ConsentRule(doc.version, Target(flow, step)),
        source=file,
    )
    if doc.consent.topics is not None:
        b.problem(
            ["consent", "topics"],
            f"'topics' ({', '.join(doc.consent.topics)}) is no longer read: put "
            "'needs_consent: true' on each question that needs consent, then remove 'topics'",
        )
    commands = [right.command for right in doc.rights]
    for index, command in enumerate(commands):
        if command in commands[:index]:
            b.problem(["rights", index, "command"], f"/{command} is listed twice")
    return policy, b.problems + check_texts(file, b.texts, set(PLACEHOLDERS))


def check_policy(policy: Policy | None, flows: Mapping[str, Flow]) -> list[FlowError]:
    """Cross-checks with the flows: the consent step, its topics and the consent version."""
    problems: list[FlowError] = []
    if policy is None:
        return problems
    consenting = [
        (flow, step, call)
        for flow in flows.values()
        for step in flow.steps.values()
        for call in step.actions
        if call.name == "record_consent"
    ]
    rule = policy.consent

    def problem(path: str, message: str) -> None:
        problems.append(FlowError(policy.source, path, message))

    ask = flows.get(rule.ask.flow)
    if ask is None:
        problem("consent > ask", f"unknown flow '{rule.ask.flow}' in '{rule.ask}'")
    elif rule.ask.step not in ask.steps:
        problem("consent > ask", f"unknown step '{rule.ask.step}' in flow '{ask.id}'")
    elif not ask.steps[rule.ask.step].waits:
        problem("consent > ask", f"'{rule.ask}' must ask (buttons), so people can say yes or no")
    problems += _check_needs_consent(flows)
    for flow, step, call in consenting:
        version = call.args.get("policy_version")
        if version != policy.version:
            problems.append(
                FlowError(
                    flow.source,
                    f"steps.{step.id} > do > record_consent",
                    f"policy_version is {version!r} but {policy.source} is version "
                    f"{policy.version}: read the consent text again, then set policy_version: "
                    f"{policy.version}",
                )
            )
    if not consenting and flows:
        problem("consent", "no flow step runs record_consent: nobody could ever agree")
    return problems


# ---------------------------------------------------------------- the document kind


def _read_policy(file: str, document: Any, loading: Loading) -> None:
    policy, problems = build_policy(file, document)
    loading.problems += problems
    if policy is not None:
        loading.keep(POLICY_KIND, policy)


def _check_policies(loading: Loading) -> None:
    policies: list[Policy] = loading.kept(POLICY_KIND)
    loading.problems += check_policy(policies[0] if policies else None, loading.flows)
    loading.problems += [
        FlowError(p.source, "policy", "only one privacy policy may be given") for p in policies[1:]
    ]
    loading.bundle["policy"] = policies[0] if policies else None


POLICY = DocumentKind(POLICY_KIND, "the privacy policy", _read_policy, _check_policies)


# ---------------------------------------------------------------- reading the policy


def policy_texts(document: Any, name: str, language: str = "en") -> Iterator[tuple[str, str]]:
    """(breadcrumb, text in ``language``) of every text a person reads in a raw ``policy:``
    document, for the reading-level lint (which also reads files that do not validate)."""
    if not isinstance(document, dict):
        return

    def english(value: Any) -> str | None:
        if isinstance(value, dict):
            value = value.get(language)
        elif language != "en":
            return None  # a plain text is English
        return value if isinstance(value, str) else None

    def listed(key: str) -> Iterator[tuple[str, Any]]:
        value = document.get(key)
        items = value if isinstance(value, list) else [value] if value is not None else []
        for index, item in enumerate(items):
            yield f"{name} > {key}[{index}]", item

    for where, value in [(f"{name} > title", document.get("title")), *listed("intro")]:
        if english(value):
            yield where, str(english(value))
    for where, item in listed("data"):
        if isinstance(item, dict):
            for part in ("what", "why", "kept", "seen_by"):
                text = english(item.get(part))
                if text:
                    yield f"{where}.{part}", text
    if english(document.get("rights_intro")):
        yield f"{name} > rights_intro", str(english(document.get("rights_intro")))
    for where, item in listed("rights"):
        text = english(item.get("text")) if isinstance(item, dict) else None
        if text:
            yield f"{where}.text", text
    for where, value in listed("outro"):
        if english(value):
            yield where, str(english(value))


def render_policy(policy: Policy, language: str, retention_days: int) -> list[str]:
    """The policy as Telegram HTML messages: the title and intro, what is kept, the rights."""
    values = {
        "retention_days": str(retention_days),
        "version": str(policy.version),
        "updated": policy.updated,
    }

    def say(text: Text) -> str:
        raw = text.get(language)
        for key, value in values.items():
            raw = raw.replace("{" + key + "}", value)
        return raw

    head = "\n".join([f"<b>{say(policy.title)}</b>", *(say(t) for t in policy.intro)])
    kept = "\n\n".join(
        f"<b>{say(item.what)}</b>\n{say(item.why)}\n{say(item.kept)}\n{say(item.seen_by)}"
        for item in policy.items
    )
    rights = "\n".join(
        [say(policy.rights_intro), *(f"/{r.command}: {say(r.text)}" for r in policy.rights)]
    )
    return [head, kept, "\n\n".join([rights, *(say(t) for t in policy.outro)])]


# ---------------------------------------------------------------- settings and records


def inactive_since(now: float, days: int) -> float:
    """The time before which a person's last activity makes them due for erasure."""
    return now - days * DAY


def iso(at: float | None) -> str | None:
    """A UTC time as ISO 8601 text, as /mydata shows times."""
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def answers_with_times(record: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The answers of a stored session record, each with when it was given."""
    if not record:
        return []
    times = record.get("answered_at", {})
    return [
        {"question": name, "answer": value, "answered_at": iso(times.get(name))}
        for name, value in record.get("answers", {}).items()
        if not name.startswith("_")
    ]


def export_document(
    data: Mapping[str, Any], user_id: str, now: float, language: str = DEFAULT_LANGUAGE
) -> bytes:
    """/mydata's file: everything stored about one person, as readable JSON."""
    from bot import texts

    body = {
        "about": texts.MYDATA_ABOUT.get(language),
        "user_id": user_id,
        "exported_at": iso(now),
        **data,
    }
    return json.dumps(body, ensure_ascii=False, indent=2, default=str).encode()


CLINIC_ALERT = (
    "Patient {ref} reported an urgent symptom in hipbot. Please contact them today. "
    "(No health details are shared here.)"
)
CLINIC_NOTICE = (
    "Patient {ref} reported a warning sign in hipbot that needs a doctor soon, not an "
    "emergency. Please contact them. (No health details are shared here.)"
)


def clinic_alert_text(patient_ref: str, urgent: bool = True) -> str:
    """The message to a clinic's staff: the clinic's own reference and nothing about health.
    Urgent rows (emergency, same day) and "see a doctor soon" rows read differently, so staff
    can tell which call comes first without learning what the person answered."""
    from bot.telegram_html import escape

    template = CLINIC_ALERT if urgent else CLINIC_NOTICE
    return template.format(ref=f"<b>{escape(patient_ref)}</b>")


def _check_needs_consent(flows: Mapping[str, Flow]) -> list[FlowError]:
    """``needs_consent`` belongs on a question, and with a policy some question needs it."""
    problems = [
        FlowError(
            flow.source,
            f"steps.{step.id} > needs_consent",
            "needs_consent is for a step that asks a question (ask:): add the question, "
            "or remove needs_consent",
        )
        for flow in flows.values()
        for step in flow.steps.values()
        if step.needs_consent and step.input is None
    ]
    gated = any(s.needs_consent for flow in flows.values() for s in flow.steps.values())
    if flows and not gated:
        problems.append(
            FlowError(
                next(iter(flows.values())).source,
                "steps",
                "the privacy policy asks for consent, but no question has 'needs_consent: true':"
                " mark the health questions with it",
            )
        )
    return problems
