"""Structural checks on the shipped content (flows/*.yaml) that need no engine.

They read the YAML directly, so they pin the clinical and safety rules of clinical.md even
while the engine changes: the red-flag screen asks all 8 questions and a yes routes to care
only, with a time frame and a safety line; "not better after 2 weeks" is not a red flag; consent comes before any symptom question; no text diagnoses or hard-codes an
emergency number; the tips catalog is big enough and covers every part of the day.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.schema import CatalogDoc, FlowDoc
from bot.telegram_html import check_html
from tests.test_privacy import SHIPPED_VERSION

FLOWS = Path(__file__).parents[1] / "flows"
SYMPTOM_ANSWERS = {
    "signs",
    "pain_now",
    "hurts",
    "desk_work",
    "care_status",
    "pain_since",
    "pain_impact",
}
CONFIG = {"emergency_number", "urgent_care"}  # configuration placeholders
ENGINE_ANSWERS = {"recent_red_flag"}  # kept by the engine (bot.safety), tested by flows


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def flow_docs() -> list[dict[str, Any]]:
    return [d for f in sorted(FLOWS.glob("*.yaml")) if "flow" in (d := load(f))]


def catalog_docs() -> list[dict[str, Any]]:
    return [d for f in sorted(FLOWS.glob("*.yaml")) if "catalog" in (d := load(f))]


def main_flow() -> dict[str, Any]:
    (entry,) = [d for d in flow_docs() if d.get("entry")]
    return entry


def all_steps() -> dict[str, dict[str, Any]]:
    steps: dict[str, dict[str, Any]] = {}
    for doc in flow_docs():
        for step_id, step in doc["steps"].items():
            steps[step_id] = step
            steps[f"{doc['flow']}:{step_id}"] = step
    return steps


def english(text: Any) -> list[str]:
    if isinstance(text, str):
        return [text]
    if isinstance(text, list):
        return [t for item in text for t in english(item)]
    if isinstance(text, dict):
        return english(text["text"]) if "text" in text else [str(v) for v in text.values()]
    return []


def step_texts(step: dict[str, Any]) -> list[str]:
    texts = english(step.get("say"))
    ask = step.get("ask") or {}
    texts += english(ask.get("reask"))
    for option in ask.get("options") or []:
        texts += english(option["label"])
    for key in ("done_label", "none_label"):
        texts += english(ask.get(key))
    for button in step.get("buttons") or []:
        texts += english(button["label"])
    tips = step.get("tips") or {}
    texts += english(tips.get("intro")) + english(tips.get("none"))
    return texts


def every_text() -> Iterator[tuple[str, str]]:
    for doc in flow_docs():
        for step_id, step in doc["steps"].items():
            for text in step_texts(step):
                yield f"{doc['flow']}:{step_id}", text
        for route in doc.get("routes", []):
            for text in english(route.get("description")):
                yield f"{doc['flow']} route /{route['command']}", text
    for doc in catalog_docs():
        for tip in doc["tips"]:
            for text in english(tip["text"]):
                yield f"{doc['catalog']}:{tip['id']}", text
    for doc in texts_docs():  # the content kit: what Python code says (bot/texts.py)
        for key, value in doc["items"].items():
            for text in english(value):
                yield f"texts {doc['texts']}.{key}", text


def texts_docs() -> list[dict[str, Any]]:
    return [d for f in sorted(FLOWS.glob("*.yaml")) if "texts" in (d := load(f))]


def targets(step: dict[str, Any]) -> list[str]:
    found = [b["go"] for b in step.get("buttons") or []]
    found += [b["go"] for b in step.get("branch") or []]
    return found + ([step["next"]] if step.get("next") else [])


def calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    """The step's actions as {run, with} mappings, whichever way the YAML wrote them."""
    do = step.get("do") or []
    do = [do] if isinstance(do, (str, dict)) else do
    return [{"run": d, "with": {}} if isinstance(d, str) else {"with": {}, **d} for d in do]


def actions(step: dict[str, Any]) -> list[str]:
    return [call["run"] for call in calls(step)]


def saved(step: dict[str, Any]) -> str | None:
    return (step.get("ask") or {}).get("save")


def reachable_without(blocked: set[str]) -> set[str]:
    """Steps a person can reach from /start or any command without passing ``blocked``."""
    steps = all_steps()
    flow = main_flow()
    starts = [flow["start"]] + [r["go"] for d in flow_docs() for r in d.get("routes", [])]
    seen: set[str] = set()
    queue = deque(s for s in starts if s not in blocked)
    while queue:
        step_id = queue.popleft()
        if step_id in seen:
            continue
        seen.add(step_id)
        queue.extend(t for t in targets(steps[step_id]) if t not in blocked and t not in seen)
    return seen


# ------------------------------------------------------------------ files and schema


def test_files_validate_against_the_schema() -> None:
    assert flow_docs() and catalog_docs()
    for doc in flow_docs():
        FlowDoc.model_validate(doc)
    for doc in catalog_docs():
        CatalogDoc.model_validate(doc)


def test_every_target_exists() -> None:
    steps = all_steps()
    for step_id, step in all_steps().items():
        for target in targets(step):
            assert target in steps, f"{step_id} -> {target}"


def test_every_step_is_reachable() -> None:
    reachable = reachable_without(set())
    for doc in flow_docs():
        missing = set(doc["steps"]) - reachable
        assert not missing, f"unreachable steps in {doc['flow']}: {sorted(missing)}"


def test_every_step_that_speaks_has_a_topic() -> None:
    for doc in flow_docs():
        for step_id, step in doc["steps"].items():
            if step.get("say") or step.get("tips") or step.get("ask"):
                assert step.get("topic"), f"step {step_id} needs a topic for the lint"


def test_required_routes() -> None:
    commands = {r["command"]: r["go"] for r in main_flow()["routes"]}
    assert commands["menu"] == "menu"
    assert commands["help"] == "help"
    assert "urgent" in commands
    assert main_flow()["resume"] == "menu"


def test_every_content_screen_has_a_way_back_to_the_menu() -> None:
    for step_id, step in main_flow()["steps"].items():
        if step.get("buttons") and step_id not in {
            "welcome",
            "menu",
            "age_check",
            "consent",
            "sx_pain_high",
        }:
            assert "menu" in targets(step), f"{step_id} has no Back to menu button"


# ------------------------------------------------------------------ texts


def test_texts_are_valid_telegram_html() -> None:
    for where, text in every_text():
        try:
            check_html(text)
        except ValueError as error:
            pytest.fail(f"{where}: {error}: {text[:60]!r}")


def test_placeholders_name_configuration_or_saved_answers() -> None:
    from bot.actions import ACTION_ANSWERS

    answers = ({saved(s) for s in all_steps().values()} - {None}) | ACTION_ANSWERS | ENGINE_ANSWERS
    for where, text in every_text():
        if where.startswith("texts "):
            continue  # filled in by code: the loader checks them against bot/texts.py
        for name in re.findall(r"\{([^{}]*)\}", text):
            assert name in CONFIG or name in answers, f"{where}: {{{name}}}"
        assert text.count("{") == text.count("}"), f"{where}: stray brace"


def test_no_hard_coded_emergency_number() -> None:
    for where, text in every_text():
        assert not re.search(r"(?<!\d)(112|911|999)(?!\d)", text), where
    for file in FLOWS.glob("*.yaml"):
        assert not re.search(r"(?<!\d)(112|911|999)(?!\d)", file.read_text()), file


DIAGNOSIS = re.compile(
    r"\byou(?:\s+have|'ve|\s+probably\s+have|\s+likely\s+have|\s+may\s+have|\s+might\s+have)"
    r"(?:\s+got)?\s+(?:an?\s+|the\s+)?(?:\w+\s+){0,2}?(?:fai|femoroacetabular|impingement|"
    r"cam|pincer)\b",
    re.IGNORECASE,
)


def test_no_text_tells_a_person_they_have_fai() -> None:
    assert DIAGNOSIS.search("Good news: you have hip impingement.")
    assert DIAGNOSIS.search("You probably have a cam shape.")
    for where, text in every_text():
        assert not DIAGNOSIS.search(text), f"{where}: {text[:80]!r}"
        assert not re.search(r"\b\d+\s*%\s+(?:chance|likely)", text, re.I), where


def test_welcome_says_education_not_diagnosis_not_emergencies() -> None:
    flow = main_flow()
    welcome = " ".join(english(flow["steps"][flow["start"]]["say"])).lower()
    assert "education" in welcome
    assert "not a diagnosis" in welcome
    assert "emergenc" in welcome and "{emergency_number}" in welcome


# ------------------------------------------------------------------ red flags

# The 8 rows of clinical.md's red-flag table: words the question must contain ("new" and
# "with your hip pain" where the table has them), and words the answer to a yes must contain
# (the action with its time frame).
SAFETY_LINE = "if it gets worse, or you cannot stand on the leg, call {emergency_number}"
RED_FLAGS = [
    (
        ("fall", "injury", "weight", "shorter", "turned out"),
        ("call {emergency_number} now", "do not try to walk on it"),
    ),
    (
        ("with your hip pain", "fever", "chills", "hot", "red", "swollen", "very unwell"),
        ("today", "emergency department", "{urgent_care}", "call {emergency_number}"),
    ),
    (("sudden", "groin", "no fall or injury"), ("today", "{urgent_care}", SAFETY_LINE)),
    (
        ("under 16", "child", "limp", "knee"),
        ("doctor today", "if you are under 16", "if you are a parent", "fever", "now"),
    ),
    (("new trouble", "bladder", "bowels", "numb between"), ("call {emergency_number} now",)),
    (("new numbness", "weakness", "leg"), ("today", "{urgent_care}", SAFETY_LINE)),
    (
        ("cancer", "hip pain is new", "weight", "night sweats"),
        ("within a few days", SAFETY_LINE),
    ),
    (("all the time", "night", "rest", "position"), ("within about a week", SAFETY_LINE)),
]


def yes_target(step: dict[str, Any]) -> str:
    name = saved(step)
    (target,) = [b["go"] for b in step["branch"] if b.get("if") == {"answer": name, "equals": True}]
    return target


def red_flag_questions() -> dict[str, dict[str, Any]]:
    return {
        step_id: step
        for step_id, step in main_flow()["steps"].items()
        if (step.get("ask") or {}).get("type") == "yes_no" and step.get("topic") == "redflags"
    }


@pytest.mark.parametrize(("question_words", "action_words"), RED_FLAGS)
def test_each_red_flag_row_is_asked_and_a_yes_routes_to_care_only(
    question_words: tuple[str, ...], action_words: tuple[str, ...]
) -> None:
    steps = main_flow()["steps"]
    matches = [
        step_id
        for step_id, step in red_flag_questions().items()
        if all(w in " ".join(english(step["say"])).lower() for w in question_words)
    ]
    assert len(matches) == 1, f"{question_words}: asked by {matches}"
    yes = steps[yes_target(steps[matches[0]])]
    said = " ".join(english(yes["say"])).lower()
    for word in action_words:
        assert word in said, f"{matches[0]} yes: missing {word!r}"
    assert "record_red_flag" in actions(yes)
    assert not yes.get("tips") and not yes.get("ask")
    assert not re.search(r"\btip|\bexercise|\bpillow|\bcushion", said)
    assert set(targets(yes)) == {"menu"}, "a yes offers nothing but the menu"


def test_red_flag_screen_has_eight_questions_with_distinct_flags() -> None:
    questions = red_flag_questions()
    assert len(questions) == 8
    steps = main_flow()["steps"]
    flags = set()
    for step in questions.values():
        (call,) = [c for c in calls(steps[yes_target(step)]) if c["run"] == "record_red_flag"]
        flags.add(call["with"]["flag"])
    assert len(flags) == 8


def test_every_yes_has_a_time_frame_and_all_but_call_now_a_safety_line() -> None:
    steps = main_flow()["steps"]
    frames = ("now", "today", "within a few days", "within about a week")
    for step_id, question in red_flag_questions().items():
        said = " ".join(english(steps[yes_target(question)]["say"])).lower()
        headline = said.split("</b>")[0]
        assert any(frame in headline for frame in frames), f"{step_id}: no time frame"
        if "call {emergency_number} now" not in headline:
            assert "call {emergency_number}" in said.split("</b>", 1)[1], (
                f"{step_id}: no safety line"
            )


def test_not_better_after_two_weeks_is_not_a_red_flag_and_the_tips_always_follow() -> None:
    steps = main_flow()["steps"]
    for step_id, step in red_flag_questions().items():
        assert "2 weeks" not in " ".join(english(step["say"])), step_id
    # the care question comes after consent, records nothing, and every answer leads to tips
    care = steps["sx_care"]
    assert [o["value"] for o in care["ask"]["options"]] == ["not_yet", "now", "past"]
    on_the_way = reachable_from("sx_care")
    assert "sx_tips" in on_the_way
    assert not any("record_red_flag" in actions(steps[s]) for s in on_the_way)
    assert {"menu", "sx_tips"} >= set(targets(steps["sx_meaning"]))
    meaning = " ".join(english(steps["sx_meaning"]["say"]))
    assert "not urgent" in meaning and "3 months or more" in meaning


def reachable_from(start: str) -> set[str]:
    """Steps on the way from ``start`` by next and branches only (no buttons)."""
    steps = main_flow()["steps"]
    seen, queue = set(), deque([start])
    while queue:
        step_id = queue.popleft()
        if step_id in seen:
            continue
        seen.add(step_id)
        step = steps[step_id]
        queue.extend(b["go"] for b in step.get("branch") or [])
        queue.extend([step["next"]] if step.get("next") else [])
    return seen


def test_urgent_route_reaches_the_red_flag_screen() -> None:
    flow = main_flow()
    urgent = {r["command"]: r["go"] for r in flow["routes"]}["urgent"]
    first = next(iter(red_flag_questions()))
    assert first in targets(flow["steps"][urgent])
    assert "rf_intro" in targets(flow["steps"]["menu"])


def test_red_flags_come_before_any_symptom_question() -> None:
    steps = main_flow()["steps"]
    symptom_steps = {sid for sid, s in steps.items() if saved(s) in SYMPTOM_ANSWERS}
    assert {saved(steps[s]) for s in symptom_steps} == SYMPTOM_ANSWERS
    last_question = [s for s in red_flag_questions() if "rf_clear" in targets(steps[s])]
    assert last_question
    assert not symptom_steps & reachable_without({"rf_clear"})


# ------------------------------------------------------------------ consent and age


def test_consent_is_recorded_before_any_symptom_question() -> None:
    steps = main_flow()["steps"]
    consenting = {sid for sid, s in steps.items() if "record_consent" in actions(s)}
    assert consenting
    for sid in consenting:
        (call,) = [c for c in calls(steps[sid]) if c["run"] == "record_consent"]
        assert call["with"] == {"policy_version": SHIPPED_VERSION}
    symptom_steps = {sid for sid, s in steps.items() if saved(s) in SYMPTOM_ANSWERS}
    assert not symptom_steps & reachable_without(consenting)


def test_consent_wording_and_buttons() -> None:
    consent = main_flow()["steps"]["consent"]
    said = " ".join(english(consent["say"]))
    for words in ("/delete", "/privacy", "save", "answers"):
        assert words in said
    labels = {
        (b["label"]["en"] if isinstance(b["label"], dict) else b["label"]): b["go"]
        for b in consent["buttons"]
    }
    assert "I agree" in labels
    steps = main_flow()["steps"]
    assert "record_consent" in actions(steps[labels["I agree"]])
    (decline,) = [go for label, go in labels.items() if label != "I agree"]
    assert "clear_answers" in actions(steps[decline])
    assert "record_consent" not in actions(steps[decline])
    assert "learn_joint" in targets(steps[decline])


def test_under_16_is_pointed_to_a_parent_and_a_doctor_and_nothing_is_kept() -> None:
    steps = main_flow()["steps"]
    assert "under_16" in targets(steps["age_check"])
    assert "consent" in targets(steps["age_check"])
    under = steps["under_16"]
    said = " ".join(english(under["say"])).lower()
    assert "parent" in said and "doctor" in said
    assert "clear_answers" in actions(under)
    assert not {saved(steps[t]) for t in targets(under)} - {None}


# ------------------------------------------------------------------ tips catalog

REQUIRED_TAGS = {"sitting", "desk", "driving", "standing", "sleep", "sport", "stairs"}


def test_tips_catalog_is_large_and_covers_every_part_of_the_day() -> None:
    (catalog,) = catalog_docs()
    tips = catalog["tips"]
    assert len(tips) >= 25
    assert len({t["id"] for t in tips}) == len(tips)
    used = {tag for tip in tips for tag in tip["tags"]}
    assert used >= REQUIRED_TAGS
    assert used <= set(catalog["tags"]), "a tip uses an undeclared tag"
    for tag in REQUIRED_TAGS:
        assert sum(tag in t["tags"] for t in tips) >= 2, f"only one tip for {tag}"
    assert all(t.get("source") for t in tips)


def test_tips_steps_use_the_catalog() -> None:
    (catalog,) = catalog_docs()
    shown = [s["tips"]["catalog"] for s in main_flow()["steps"].values() if s.get("tips")]
    assert shown and set(shown) == {catalog["catalog"]}


def test_tips_are_not_exercise_prescriptions() -> None:
    (catalog,) = catalog_docs()
    pattern = re.compile(
        r"\b(reps?|repetitions|sets? of|times a day|hold for|\d+ seconds)\b", re.IGNORECASE
    )
    for tip in catalog["tips"]:
        for text in english(tip["text"]):
            assert not pattern.search(text), tip["id"]


def test_tips_catalog_conditions_name_saved_answers() -> None:
    (catalog,) = catalog_docs()
    answers = {saved(s) for s in all_steps().values()} - {None}

    def names(condition: Any) -> Iterator[str]:
        if isinstance(condition, dict):
            if "answer" in condition:
                yield condition["answer"]
            for value in condition.values():
                yield from names(value)
        elif isinstance(condition, list):
            for item in condition:
                yield from names(item)

    for tag, condition in catalog["tags"].items():
        assert set(names(condition)) <= answers, tag


# ------------------------------------------------------------------ coverage of the sources

FAQ_STEPS = {
    "faq_scan", "faq_sport", "faq_go_away", "faq_arthritis", "faq_surgery", "faq_physio",
    "faq_harm", "faq_running", "faq_squats", "faq_yoga", "faq_cycling", "faq_chair", "faq_car",
    "faq_sleep", "faq_ice_heat", "faq_medicine", "faq_injection", "faq_pregnancy", "faq_breaks",
    "faq_is_arthritis", "faq_how_long", "faq_pain_ok", "faq_report", "faq_clicking",
    "faq_other_causes", "faq_sex", "faq_work", "faq_ask",
}  # fmt: skip


def test_every_common_question_of_clinical_md_has_an_answer() -> None:
    steps = main_flow()["steps"]
    assert set(steps) >= FAQ_STEPS
    for step_id in FAQ_STEPS:
        assert steps[step_id]["topic"] == "faq"


SEED_FACTS = [
    "ball and socket", "femoral head", "acetabulum", "glide smoothly", "run in families",
    "cam", "pincer", "adaptive impingement", "mild and hard to pin down", "older",
    "stiff hip, thigh or groin", "right angle", "front of the hip", "popping, clicking",
    "labrum", "hips a bit higher than your knees", "slump", "lock them", "change how you do it",
    "pelvis", "lower back", "good first step", "soft tissue", "joint mobilization",
    "not bigger muscles", "holding a joint steady", "your goals", "scan", "injection", "surgery",
    "depends on what is behind",
]  # fmt: skip


def test_the_seed_facts_are_in_the_conversation() -> None:
    said = " ".join(text for _, text in every_text()).lower()
    missing = [fact for fact in SEED_FACTS if fact.lower() not in said]
    assert not missing
