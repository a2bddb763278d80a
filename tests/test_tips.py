"""Tips that fit on a phone: a few per message, "More tips" while any are left, one tip per
group, and at least one tip for every sign and activity a person picked.

Pure catalog rules (``Catalog.offer``, ``tip_pages``), the engine's paging on a small flow
written to a temporary folder, the loader's checks, and the shipped catalog's promises.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation import Conversation
from bot.engine import TIPS_PAGE, Engine
from bot.errors import FlowErrors
from bot.loader import load_bundle
from bot.model import AnswerTest, Catalog, Text, Tip, tip_pages
from bot.storage import MemoryStorage

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"


def tip(id_: str, *tags: str, group: str | None = None) -> Tip:
    return Tip(id_, tags, Text.plain(id_), group)


def picked(*values: str) -> dict[str, Any]:
    return {"hurts": list(values)}


CATALOG = Catalog(
    "c",
    {name: AnswerTest("hurts", "has", name) for name in ("a", "b", "c", "d")},
    (
        tip("a1", "a", group="same"),
        tip("a2", "a"),
        tip("a3", "a"),
        tip("b1", "b", group="same"),  # says what a1 says
        tip("b2", "b"),
        tip("c1", "c"),
        tip("d1", "d", "a"),
    ),
)


# ---------------------------------------------------------------- the catalog, pure


def ids(tips: list[Tip]) -> list[str]:
    return [t.id for t in tips]


def test_offer_covers_each_fitting_tag_first_then_the_rest_in_file_order() -> None:
    assert ids(CATALOG.offer(picked("a", "b", "c", "d"))) == [
        "a1",
        "b2",
        "c1",
        "d1",
        "a2",
        "a3",
    ]


def test_offer_shows_one_tip_per_group() -> None:
    offered = CATALOG.offer(picked("a", "b"))
    assert "a1" in ids(offered) and "b1" not in ids(offered)
    assert ids(CATALOG.offer(picked("b"))) == ["b1", "b2"]  # alone, the group's tip shows


def test_a_tag_covered_by_an_earlier_tip_takes_no_second_first_place() -> None:
    # d1 also carries 'a': picked with 'd' only, 'a' does not fit and d1 is the one tip
    assert ids(CATALOG.offer(picked("d"))) == ["d1"]


def test_offer_is_empty_when_nothing_fits() -> None:
    assert CATALOG.offer(picked()) == []


def test_tip_pages_split_without_loss() -> None:
    offered = CATALOG.offer(picked("a", "b", "c", "d"))
    pages = tip_pages(offered, 4)
    assert [len(p) for p in pages] == [4, 2]
    assert [t for page in pages for t in page] == offered
    assert tip_pages([], 3) == []


# ---------------------------------------------------------------- the engine: paging

FLOW = """
flow: t
version: 1
start: menu
steps:
  menu:
    say: "What hurts?"
    ask:
      type: multi
      save: hurts
      options:
        - {value: a, label: A}
        - {value: b, label: B}
      none_label: None of these
    next: tips
  tips:
    tips:
      catalog: c
      limit: 2
      more: "More tips for me"
      intro: "Tips for you:"
      none: "No tips fit."
    buttons:
      - {label: "Back", go: menu}
"""

TIPS = """
catalog: c
tags:
  a: {answer: hurts, has: a}
  b: {answer: hurts, has: b}
tips:
  - {id: a1, tags: [a], group: same, text: "Tip a1."}
  - {id: a2, tags: [a], text: "Tip a2."}
  - {id: a3, tags: [a], text: "Tip a3."}
  - {id: b1, tags: [b], group: same, text: "Tip b1."}
  - {id: b2, tags: [b], text: "Tip b2."}
"""


def write_flows(folder: Path, flow: str = FLOW, tips: str = TIPS) -> Path:
    (folder / "t.yaml").write_text(flow, encoding="utf-8")
    (folder / "c.yaml").write_text(tips, encoding="utf-8")
    return folder


@pytest.fixture
def chat(tmp_path: Path) -> Conversation:
    bundle = load_bundle([write_flows(tmp_path)], actions=[])
    return Conversation(Engine(bundle), MemoryStorage(), "7")


def labels(chat: Conversation) -> list[str]:
    return [label for label, _ in chat.offered()]


def test_first_message_shows_a_page_and_a_more_button(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A, B")
    assert chat.text() == "Tips for you:\n\n• Tip a1.\n\n• Tip b2."
    assert labels(chat) == ["More tips for me", "Back"]


def test_more_shows_the_next_page_until_none_are_left(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A, B")
    chat.click("More tips for me")
    assert chat.text() == "• Tip a2.\n\n• Tip a3."
    assert "Tip b1." not in chat.text()  # same group as a1, already said
    assert labels(chat) == ["Back"]  # nothing left: no "More" button
    session = chat.session
    assert session is not None and session.step == "tips" and session.answers[TIPS_PAGE] == 1


def test_the_pressed_more_button_is_reported_as_chosen(tmp_path: Path) -> None:
    engine = Engine(load_bundle([write_flows(tmp_path)], actions=[]))
    chat = Conversation(engine, MemoryStorage(), "8")
    chat.send("/start")
    chat.send("A, B")
    session = chat.session
    outcome = engine.handle(session, chat.button_event("More tips for me"), "8")
    assert outcome.chosen == "More tips for me"


def test_typing_the_more_label_shows_more(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A, B")
    chat.send("more tips for me")
    assert chat.text() == "• Tip a2.\n\n• Tip a3."


def test_an_old_more_button_after_the_last_page_is_stale(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A, B")
    old = chat.button_event("More tips for me")
    chat.click("More tips for me")
    chat.handle(old)
    assert "earlier message" in chat.text()
    assert "Tip a2." not in chat.text()


def test_coming_back_to_the_tips_starts_at_the_first_page(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A")
    chat.click("More tips for me")
    chat.click("Back")
    chat.send("A")
    assert chat.text() == "Tips for you:\n\n• Tip a1.\n\n• Tip a2."
    assert labels(chat) == ["More tips for me", "Back"]
    session = chat.session
    assert session is not None and TIPS_PAGE not in session.answers


def test_nothing_is_kept_about_tips_until_more_is_pressed(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A, B")
    session = chat.session
    assert session is not None and dict(session.answers) == {"hurts": ["a", "b"]}


def test_no_more_button_when_one_page_holds_every_tip(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("B")
    assert chat.text() == "Tips for you:\n\n• Tip b1.\n\n• Tip b2."
    assert labels(chat) == ["Back"]


def test_resuming_at_the_tips_keeps_the_more_button(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("A, B")
    chat.resume()
    assert labels(chat) == ["More tips for me", "Back"]


# ---------------------------------------------------------------- the loader


def problems(folder: Path) -> list[str]:
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder], actions=[])
    return [str(p) for p in caught.value.errors]


def test_a_group_with_one_tip_is_named_with_its_path(tmp_path: Path) -> None:
    write_flows(tmp_path, tips=TIPS.replace('group: same, text: "Tip b1."', 'text: "Tip b1."'))
    found = problems(tmp_path)
    assert any(
        "c.yaml" in p and "tips[0].group" in p and "group 'same' has only this tip" in p
        for p in found
    ), found


def test_a_more_button_needs_a_step_that_waits(tmp_path: Path) -> None:
    flow = FLOW.replace('    buttons:\n      - {label: "Back", go: menu}\n', "    end: true\n")
    write_flows(tmp_path, flow=flow)
    found = problems(tmp_path)
    assert any("steps.tips > tips > more" in p and "needs a step that waits" in p for p in found)


def test_more_than_eight_tips_a_message_is_refused(tmp_path: Path) -> None:
    write_flows(tmp_path, flow=FLOW.replace("limit: 2", "limit: 9"))
    assert any("steps.tips > tips > limit" in p for p in problems(tmp_path))


# ---------------------------------------------------------------- the shipped catalog


@pytest.fixture(scope="module")
def shipped() -> tuple[Catalog, dict[str, list[str]], int]:
    bundle = load_bundle([FLOWS])
    hip = bundle.flows["hip"]
    options = {
        name: [o.value for o in hip.steps[step].input.options]  # type: ignore[union-attr]
        for name, step in (("signs", "sx_signs"), ("hurts", "sx_hurts"))
    }
    tips_ref = hip.steps["sx_tips"].tips
    assert tips_ref is not None
    return bundle.catalogs[tips_ref.catalog], options, tips_ref.limit


def mine(**answers: Any) -> dict[str, Any]:
    return {
        "tips_area": "mine",
        "signs": [],
        "hurts": [],
        "desk_work": False,
        "pain_now": 2,
    } | answers


def covered(catalog: Catalog, answers: dict[str, Any], tag: str) -> bool:
    return any(tag in t.tags for t in catalog.offer(answers))


def test_every_sign_and_activity_alone_gets_a_tip_of_its_own(
    shipped: tuple[Catalog, dict[str, list[str]], int],
) -> None:
    catalog, options, _ = shipped
    general = set(catalog.fitting_tags(mine()))
    for name, values in options.items():
        for value in values:
            answers = mine(**{name: [value]})
            own = set(catalog.fitting_tags(answers)) - general
            assert own, f"no tag fits {name} = {value}"
            for tag in own:
                assert covered(catalog, answers, tag), f"{name} = {value}: no '{tag}' tip"


def everything(options: dict[str, list[str]]) -> dict[str, Any]:
    return mine(signs=options["signs"], hurts=options["hurts"], desk_work=True, pain_now=7)


def test_all_triggers_and_pain_7_still_get_squat_stairs_and_bad_day_tips(
    shipped: tuple[Catalog, dict[str, list[str]], int],
) -> None:
    catalog, options, _ = shipped
    answers = everything(options)
    for tag in catalog.fitting_tags(answers):
        assert covered(catalog, answers, tag), tag
    offered = ids(catalog.offer(answers))
    assert {"squat_to_box", "stairs_one_at_a_time", "flare_heat_or_ice"} <= set(offered)


def test_hips_above_knees_is_said_once_to_a_desk_worker_who_drives(
    shipped: tuple[Catalog, dict[str, list[str]], int],
) -> None:
    catalog, _, _ = shipped
    offered = catalog.offer(mine(hurts=["sitting", "driving"], desk_work=True))
    same = [t.id for t in offered if t.group == "hips_above_knees"]
    assert same == ["hips_above_knees"]


def test_no_tip_or_group_twice_for_any_pair_of_picks(
    shipped: tuple[Catalog, dict[str, list[str]], int],
) -> None:
    catalog, options, limit = shipped
    values = [("signs", v) for v in options["signs"]] + [("hurts", v) for v in options["hurts"]]
    for (n1, v1), (n2, v2) in combinations(values, 2):
        answers = mine(pain_now=7, desk_work=True)
        answers[n1] = [*answers[n1], v1]
        answers[n2] = [*answers[n2], v2]
        offered = catalog.offer(answers)
        keys = [t.key for t in offered]
        assert len(keys) == len(set(keys)), (v1, v2, keys)
        assert all(len(page) <= limit for page in tip_pages(offered, limit))


def test_shipped_groups_hold_tips_that_say_the_same_thing() -> None:
    doc = yaml.safe_load((FLOWS / "tips.yaml").read_text(encoding="utf-8"))
    groups: dict[str, list[str]] = {}
    for item in doc["tips"]:
        if "group" in item:
            groups.setdefault(item["group"], []).append(item["id"])
    assert groups["hips_above_knees"] == [
        "hips_above_knees",
        "car_seat_height",
        "desk_chair_height",
    ]
    assert "change_not_push" in groups["change_it"]
