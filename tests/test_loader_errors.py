"""What a flow author reads when a flow or tips catalog is wrong: file, breadcrumb, fix.

Each test writes a small flow with one mistake to a temporary folder and pins the whole
message, so a message that loses its path, its bad value or its advice fails here. The
broken files of tests/flows/broken/ (test_validation.py) cover other mistakes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import FlowErrors
from bot.loader import load_bundle
from bot.model import Bundle

QUESTION_FLOW = """\
flow: f
version: 1
start: q
steps:
  q:
    say: "Tell me"
    ask: {ask}
    next: bye
  bye:
    say: "Bye"
    end: true
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages name files as given: load them relative to a temporary folder."""
    monkeypatch.chdir(tmp_path)


def write(**files: str) -> list[str]:
    for name, text in files.items():
        Path(f"{name}.yaml").write_text(text, encoding="utf-8")
    return [f"{name}.yaml" for name in files]


def problems(**files: str) -> list[str]:
    with pytest.raises(FlowErrors) as caught:
        load_bundle(write(**files))
    return [str(error) for error in caught.value.errors]


def loads(**files: str) -> Bundle:
    return load_bundle(write(**files))


def question(ask: str) -> list[str]:
    return problems(f=QUESTION_FLOW.format(ask=ask))


# ---------------------------------------------------------------- questions (ask:)


@pytest.mark.parametrize("kind", ["choice", "multi"])
def test_a_choice_without_options_says_what_options_are(kind: str) -> None:
    assert question(f"{{type: {kind}, save: a}}") == [
        f"f.yaml > steps.q > ask: a '{kind}' question needs 'options' (a list of value and label)"
    ]


@pytest.mark.parametrize("kind", ["yes_no", "integer", "time"])
def test_options_on_a_question_that_has_none_are_refused(kind: str) -> None:
    limits = ", min: 0, max: 3" if kind == "integer" else ""
    ask = f"{{type: {kind}, save: a{limits}, options: [{{value: x, label: X}}]}}"
    assert question(ask) == [
        f"f.yaml > steps.q > ask > options: a '{kind}' question takes no options"
    ]


def test_a_time_zone_question_may_offer_a_few_zones_as_buttons() -> None:
    bundle = loads(
        f=QUESTION_FLOW.format(
            ask="{type: timezone, save: tz, options: [{value: europe__london, label: London}]}"
        )
    )
    asked = bundle.flows["f"].steps["q"].input
    assert asked is not None
    assert [o.value for o in asked.options] == ["europe__london"]


@pytest.mark.parametrize("limits", ["min: 1", "max: 5", ""])
def test_an_integer_question_needs_both_ends_of_its_scale(limits: str) -> None:
    ask = f"{{type: integer, save: n, {limits}}}" if limits else "{type: integer, save: n}"
    assert question(ask) == [
        "f.yaml > steps.q > ask: an 'integer' question needs both 'min' and 'max'"
    ]


def test_a_scale_upside_down_names_both_ends() -> None:
    assert question("{type: integer, save: n, min: 5, max: 3}") == [
        "f.yaml > steps.q > ask > min: min 5 is larger than max 3"
    ]


def test_a_scale_of_one_value_is_allowed() -> None:
    bundle = loads(f=QUESTION_FLOW.format(ask="{type: integer, save: n, min: 4, max: 4}"))
    asked = bundle.flows["f"].steps["q"].input
    assert asked is not None
    assert (asked.kind, asked.save, asked.minimum, asked.maximum) == ("integer", "n", 4, 4)


@pytest.mark.parametrize("limits", ["min: 1", "max: 5", "min: 1, max: 5"])
def test_min_and_max_belong_to_integer_questions_only(limits: str) -> None:
    assert question(f"{{type: time, save: t, {limits}}}") == [
        "f.yaml > steps.q > ask: 'min' and 'max' only apply to integer questions, not 'time'"
    ]


@pytest.mark.parametrize("label", ["done_label: Done", "none_label: Nothing"])
def test_done_and_none_labels_belong_to_multi_questions_only(label: str) -> None:
    ask = f"{{type: choice, save: c, {label}, options: [{{value: a, label: A}}]}}"
    assert question(ask) == [
        "f.yaml > steps.q > ask: 'done_label' and 'none_label' only apply to 'multi' questions"
    ]


def test_an_option_value_used_twice_is_named_once() -> None:
    ask = (
        "{type: choice, save: c, options: ["
        "{value: a, label: A}, {value: b, label: B}, {value: a, label: C}, {value: a, label: D}]}"
    )
    assert question(ask) == ["f.yaml > steps.q > ask > options: the value 'a' is used twice"]


def test_a_multi_question_keeps_its_labels_reask_and_audit() -> None:
    ask = (
        "{type: multi, save: m, done_label: Finished, none_label: Neither, audit: true, "
        "reask: 'Tap one or more.', options: [{value: a, label: A}, {value: b, label: B}]}"
    )
    asked = loads(f=QUESTION_FLOW.format(ask=ask)).flows["f"].steps["q"].input
    assert asked is not None
    assert asked.done_label is not None and asked.done_label.get("en") == "Finished"
    assert asked.none_label is not None and asked.none_label.get("en") == "Neither"
    assert [m.text.get("en") for m in asked.reask] == ["Tap one or more."]
    assert asked.audit is True
    assert [(o.value, o.label.get("en")) for o in asked.options] == [("a", "A"), ("b", "B")]


def test_a_label_of_a_question_option_is_checked_as_a_button_label() -> None:
    ask = "{type: choice, save: c, options: [{value: a, label: '<i>A</i>'}]}"
    assert question(ask) == [
        "f.yaml > steps.q > ask > options[0].label: '<i>': button labels are plain text and "
        "Telegram would show it as typed; write the label without HTML (& and < are fine)"
    ]


# ---------------------------------------------------------------- start, resume, moved, routes


FLOW_HEAD = """\
flow: f
version: 1
"""
STEPS = """\
steps:
  menu:
    say: "Menu"
    buttons:
      - {label: "Bye", go: bye}
  bye:
    say: "Bye"
    end: true
"""


def test_an_unknown_start_step_is_named_with_a_suggestion() -> None:
    flow = FLOW_HEAD + "start: men\nresume: menu\n" + STEPS
    assert problems(f=flow) == ["f.yaml > start: unknown step 'men' (did you mean 'menu'?)"]


def test_an_unknown_resume_step_is_named_with_a_suggestion() -> None:
    flow = FLOW_HEAD + "start: menu\nresume: by\n" + STEPS
    assert problems(f=flow) == ["f.yaml > resume: unknown step 'by' (did you mean 'bye'?)"]


def test_a_moved_step_that_still_exists_must_leave_moved() -> None:
    flow = FLOW_HEAD + "start: menu\nmoved: {bye: menu}\n" + STEPS
    assert problems(f=flow) == [
        "f.yaml > moved.bye: step 'bye' still exists; remove it from 'moved'"
    ]


def test_a_moved_step_must_point_at_a_step_that_exists() -> None:
    flow = FLOW_HEAD + "start: menu\nmoved: {old_menu: menuu}\n" + STEPS
    assert problems(f=flow) == [
        "f.yaml > moved.old_menu: unknown step 'menuu' (did you mean 'menu'?)"
    ]


def test_a_command_given_twice_is_named_at_both_routes() -> None:
    routes = "routes:\n  - {command: menu, go: menu}\n  - {command: menu, go: bye}\n"
    assert problems(f=FLOW_HEAD + "start: menu\n" + routes + STEPS) == [
        "f.yaml > routes[0].command: duplicate command 'menu'",
        "f.yaml > routes[1].command: duplicate command 'menu'",
    ]


def test_a_route_to_an_unknown_step_or_flow_is_named() -> None:
    routes = "routes:\n  - {command: menu, go: mneu}\n  - {command: help, go: 'other:menu'}\n"
    assert problems(f=FLOW_HEAD + "start: menu\n" + routes + STEPS) == [
        "f.yaml > routes[0].go: unknown step 'mneu' (did you mean 'menu'?)",
        "f.yaml > routes[1].go: unknown flow 'other'",
    ]


def test_a_step_missing_in_another_flow_names_that_flow() -> None:
    main = FLOW_HEAD.replace("flow: f", "flow: main") + "entry: true\nstart: menu\n"
    main += STEPS.replace("go: bye", "go: 'extra:strech'")
    extra = "flow: extra\nversion: 1\nstart: stretch\nsteps:\n  stretch:\n"
    extra += "    say: Stretch\n    end: true\n"
    assert problems(main=main, extra=extra) == [
        "main.yaml > steps.menu > buttons[0].go: unknown step 'strech' in flow 'extra' "
        "(did you mean 'stretch'?)",
        "main.yaml > steps.bye: unreachable: no button, next, branch or route leads here "
        "(link it or remove it)",
    ]


def test_a_step_reached_only_from_another_flow_or_a_route_is_reachable() -> None:
    main = FLOW_HEAD.replace("flow: f", "flow: main") + "entry: true\nstart: menu\n"
    main += STEPS.replace("go: bye", "go: 'extra:'")
    extra = (
        "flow: extra\nversion: 1\nstart: stretch\n"
        "routes:\n  - {command: walk, go: walk}\n"
        "steps:\n"
        "  stretch:\n    say: Stretch\n    end: true\n"
        "  walk:\n    say: Walk\n    end: true\n"
        "  back:\n    say: Back\n    end: true\n"
    )
    main = main.replace("go: menu", "go: menu")
    assert problems(main=main, extra=extra) == [
        "main.yaml > steps.bye: unreachable: no button, next, branch or route leads here "
        "(link it or remove it)",
        "extra.yaml > steps.back: unreachable: no button, next, branch or route leads here "
        "(link it or remove it)",
    ]


# ---------------------------------------------------------------- steps


def step_problems(step: str, extra_steps: str = "") -> list[str]:
    flow = (
        FLOW_HEAD
        + "start: s\nsteps:\n  s:\n"
        + "".join(f"    {line}\n" for line in step.splitlines())
        + "  bye:\n    say: Bye\n    end: true\n"
        + extra_steps
    )
    return problems(f=flow)


def test_a_step_with_next_and_branch_is_refused() -> None:
    assert step_problems("say: Hi\nnext: bye\nbranch:\n  - go: bye") == [
        "f.yaml > steps.s: a step has either 'next' or 'branch', not both"
    ]


def test_an_end_step_cannot_go_on() -> None:
    assert step_problems("say: Hi\nnext: bye\nend: true") == [
        "f.yaml > steps.s: an 'end: true' step cannot also ask or go on with next/branch"
    ]


def test_an_end_step_cannot_ask() -> None:
    assert step_problems("say: Hi\nask: {type: yes_no, save: y}\nend: true") == [
        "f.yaml > steps.s: an 'end: true' step cannot also ask or go on with next/branch",
        "f.yaml > steps.bye: unreachable: no button, next, branch or route leads here "
        "(link it or remove it)",
    ]


def test_a_question_with_no_way_on_says_so() -> None:
    assert step_problems(
        "say: Hi\nask: {type: yes_no, save: y}\nbuttons: []",
        "  other:\n    say: x\n    next: bye\n",
    )[:1] == [
        "f.yaml > steps.s: this step asks a question but has no way on: add 'next', "
        "'branch' or buttons, or mark it 'end: true'"
    ]


def test_a_question_must_say_something() -> None:
    assert step_problems("ask: {type: yes_no, save: y}\nnext: bye") == [
        "f.yaml > steps.s: a step with a question or buttons must 'say' something to put them under"
    ]


def test_a_message_condition_on_an_answer_nobody_saves_is_named() -> None:
    assert step_problems(
        "ask: {type: yes_no, save: ready}\n"
        "say:\n  - Hi\n  - {text: Good, if: {answer: redy, equals: true}}\nnext: bye"
    ) == [
        "f.yaml > steps.s > say[1].if: no step saves an answer named 'redy' (did you mean 'ready'?)"
    ]


def test_a_branch_test_with_two_operators_is_refused() -> None:
    # (the broken test then also counts as a missing 'if': a second, less helpful message)
    assert step_problems(
        "say: Hi\nask: {type: integer, save: pain, min: 0, max: 10}\n"
        "branch:\n  - {if: {answer: pain, at_least: 7, at_most: 9}, go: bye}\n  - go: bye"
    )[:1] == [
        "f.yaml > steps.s > branch[0].if: a test on 'pain' needs exactly one of equals, "
        "not_equals, in, has, has_any, at_least, at_most, answered (found ['at_least', 'at_most'])"
    ]


def test_a_long_button_label_is_named_with_its_length() -> None:
    label = "A" * 65
    assert step_problems(f"say: Hi\nbuttons:\n  - {{label: {label}, go: bye}}") == [
        f"f.yaml > steps.s: button label {'A' * 30!r}... (en) is 65 characters; keep it under 64"
    ]


def test_a_button_label_of_64_characters_is_fine() -> None:
    flow = (
        FLOW_HEAD
        + "start: s\nsteps:\n  s:\n    say: Hi\n    buttons:\n"
        + f"      - {{label: {'A' * 64}, go: bye}}\n"
        + "  bye:\n    say: Bye\n    end: true\n"
    )
    assert [b.label.get("en") for b in loads(f=flow).flows["f"].steps["s"].buttons] == ["A" * 64]


def test_an_unknown_catalog_lists_the_catalogs_there_are() -> None:
    catalog = "catalog: daily\ntags: {all: true}\ntips:\n  - {id: a, tags: [all], text: Walk.}\n"
    assert step_problems("say: Tips\ntips: {catalog: dayly}\nnext: bye") == [
        "f.yaml > steps.s > tips > catalog: unknown tips catalog 'dayly'; "
        "no file here starts with 'catalog:'"
    ]
    flow = FLOW_HEAD + "start: s\nsteps:\n  s:\n    say: Tips\n    tips: {catalog: dayly}\n"
    flow += "    next: bye\n  bye:\n    say: Bye\n    end: true\n"
    assert problems(f=flow, c=catalog) == [
        "f.yaml > steps.s > tips > catalog: unknown tips catalog 'dayly' "
        "(did you mean 'daily'?); catalogs: daily"
    ]


# ---------------------------------------------------------------- YAML mistakes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "flow: f\nversion: 1\nstart: s\nsteps:\n  s:\n    say: Note: this\n",
            "line 6, column 14: mapping values are not allowed here "
            "(a text with ': ' in it needs quotes around it)",
        ),
        (
            "flow: f\nversion: 1\nstart: s\nsteps:\n\ts:\n",
            "line 5, column 1: found character '\\t' that cannot start any token "
            "(indent with spaces, not tabs)",
        ),
        (
            'flow: f\nversion: 1\nstart: s\nsteps:\n  s:\n    say: "Hello\n    end: true\n',
            "line 8, column 1: found unexpected end of stream "
            "(the quote opened on line 6 is never closed)",
        ),
        (
            "flow: f\nversion: 1\nstart: s\nsteps:\n  s:\n    say: [Hi, there\n    end: true\n",
            "line 7, column 8: expected ',' or ']', but got ':' "
            "(a list in [ ] or a mapping in { } is not closed, or a text in it needs quotes)",
        ),
        (
            "flow: f\nversion: 1\nstart: s\nsteps:\n  s:\n    say: {text: Hi\n    end: true\n",
            "line 7, column 8: expected ',' or '}', but got ':' "
            "(a list in [ ] or a mapping in { } is not closed, or a text in it needs quotes)",
        ),
    ],
)
def test_yaml_mistakes_come_with_a_fix(text: str, message: str) -> None:
    assert problems(f=text) == [f"f.yaml: {message}"]


def test_an_odd_yaml_mistake_gets_no_made_up_hint() -> None:
    said = problems(f="flow: f\nversion: 1\nstart: &a s\nsteps: *b\n")
    assert said == ["f.yaml: line 4, column 8: found undefined alias 'b'"]


# ---------------------------------------------------------------- tips catalogs


FLOW_WITH_TIPS = """\
flow: f
version: 1
start: s
steps:
  s:
    say: "What hurts?"
    ask:
      type: multi
      save: hurts
      options: [{value: sitting, label: Sitting}, {value: stairs, label: Stairs}]
    next: tips
  tips:
    say: "Tips"
    tips: {catalog: c}
    end: true
"""


def test_a_catalog_is_built_with_its_tips_in_order() -> None:
    catalog = (
        "catalog: c\n"
        "tags:\n  sitting: {answer: hurts, has: sitting}\n  stairs: {answer: hurts, has: stairs}\n"
        "  all: true\n"
        "tips:\n"
        "  - {id: wedge, tags: [sitting], text: Use a wedge cushion.}\n"
        "  - {id: rail, tags: [stairs, all], text: Hold the rail.}\n"
        "  - {id: cushion, tags: [sitting], text: Sit high.}\n"
    )
    built = loads(f=FLOW_WITH_TIPS, c=catalog).catalogs["c"]
    assert built.source == "c.yaml"
    assert [(t.id, t.tags, t.text.get("en")) for t in built.tips] == [
        ("wedge", ("sitting",), "Use a wedge cushion."),
        ("rail", ("stairs", "all"), "Hold the rail."),
        ("cushion", ("sitting",), "Sit high."),
    ]
    assert [t.id for t in built.fitting({"hurts": ["sitting"]})] == ["wedge", "rail", "cushion"]
    assert [t.id for t in built.fitting({"hurts": []})] == ["rail"]


def test_catalog_mistakes_are_all_named() -> None:
    catalog = (
        "catalog: c\n"
        "tags:\n  sitting: {answer: hurts, has: sitting, equals: x}\n  zzz: true\n"
        "tips:\n"
        "  - {id: wedge, tags: [sitting], text: Use a wedge cushion.}\n"
        "  - {id: wedge, tags: [qqqq], text: Again.}\n"
    )
    assert problems(f=FLOW_WITH_TIPS, c=catalog) == [
        "c.yaml > tags.sitting: a test on 'hurts' needs exactly one of equals, not_equals, in, "
        "has, has_any, at_least, at_most, answered (found ['equals', 'has'])",
        "c.yaml > tips[1].id: duplicate tip id 'wedge'",
        "c.yaml > tips[1].tags: unknown tag 'qqqq'; declare it under 'tags'",
    ]


def test_a_catalog_tag_on_an_answer_nobody_saves_is_named() -> None:
    catalog = (
        "catalog: c\ntags:\n  sitting: {answer: hurst, has: sitting}\n"
        "tips:\n  - {id: wedge, tags: [sitting], text: Use a wedge cushion.}\n"
    )
    assert problems(f=FLOW_WITH_TIPS, c=catalog) == [
        "c.yaml > tags.sitting: no step saves an answer named 'hurst' (did you mean 'hurts'?)"
    ]


def test_two_catalogs_with_one_id_name_the_other_file() -> None:
    catalog = "catalog: c\ntags: {all: true}\ntips:\n  - {id: a, tags: [all], text: Walk.}\n"
    assert problems(f=FLOW_WITH_TIPS, c=catalog, c2=catalog) == [
        "c2.yaml > catalog: duplicate catalog id 'c' (also in c.yaml)"
    ]


# ---------------------------------------------------------------- files and texts


def test_a_file_that_is_not_utf8_is_named() -> None:
    Path("f.yaml").write_bytes(b"flow: f\nsay: caf\xe9\n")
    with pytest.raises(FlowErrors) as caught:
        load_bundle(["f.yaml"])
    assert [str(e) for e in caught.value.errors] == [
        "f.yaml: cannot read the file: 'utf-8' codec can't decode byte 0xe9 in position 16: "
        "invalid continuation byte"
    ]


def test_a_control_character_is_named() -> None:
    said = problems(f="flow: f\nversion: 1\nstart: s\nsteps:\n  s:\n    say: Hi\x07\n")
    # (PyYAML gives a character position here, not a line)
    assert len(said) == 1
    assert said[0].startswith(
        "f.yaml: unacceptable character #x0007: special characters are not allowed"
    )


def test_yml_files_in_a_folder_are_loaded_too() -> None:
    Path("flows").mkdir()
    Path("flows/a.yml").write_text(QUESTION_FLOW.format(ask="{type: yes_no, save: y}"))
    Path("flows/notes.txt").write_text("not a flow")
    assert list(load_bundle(["flows"]).flows) == ["f"]


def test_a_number_where_a_text_belongs_says_to_quote_it() -> None:
    assert question("{type: choice, save: c, options: [{value: a, label: 5}]}") == [
        "f.yaml > steps.q > ask > options[0].label: should be a text in quotes "
        "(got 5: YAML reads it as a number without quotes)"
    ]


def test_a_text_with_no_languages_at_all_is_named() -> None:
    flow = QUESTION_FLOW.format(ask="{type: yes_no, save: y}").replace('say: "Bye"', "say: {}")
    assert problems(f=flow) == [
        "f.yaml > steps.bye > say: missing the 'en' text (found only [])",
        "f.yaml > steps.bye > say: the text is empty",
    ]


def test_a_command_description_is_plain_text() -> None:
    flow = (
        FLOW_HEAD
        + "start: menu\nroutes:\n  - {command: menu, go: menu, description: '<b>Menu</b>'}\n"
    )
    assert problems(f=flow + STEPS) == [
        "f.yaml > routes[0].description: '<b>': button labels are plain text and Telegram would "
        "show it as typed; write the label without HTML (& and < are fine)"
    ]


def test_a_multi_question_counts_its_done_and_none_buttons() -> None:
    options = ", ".join(f"{{value: o{i}, label: O{i}}}" for i in range(99))
    assert question(f"{{type: multi, save: m, options: [{options}]}}") == [
        "f.yaml > steps.q: 101 buttons is more than Telegram's 100: split them over several steps"
    ]
    many = ", ".join(f"{{value: o{i}, label: O{i}}}" for i in range(100))
    loads(f=QUESTION_FLOW.format(ask=f"{{type: choice, save: m, options: [{many}]}}"))


def test_a_stray_brace_and_every_language_of_a_text_are_checked() -> None:
    flow = QUESTION_FLOW.format(ask="{type: yes_no, save: y}").replace(
        'say: "Bye"', "say: {en: ' ', de: 'Hallo {name}', fr: 'Salut {'}"
    )
    assert problems(f=flow) == [
        "f.yaml > steps.bye > say (en): the text is empty",
        "f.yaml > steps.bye > say (de): unknown placeholder '{name}' "
        "(known: ci_act1, ci_act2, ci_act3, ci_count, ci_recent, ci_worse_run, emergency_number,"
        " in_quiet_time, quiet_check_for, quiet_from, quiet_next_day, quiet_until,"
        " recent_red_flag, urgent_care, y)",
        "f.yaml > steps.bye > say (fr): a '{' or '}' that is not a placeholder like "
        "{emergency_number}",
    ]


def test_an_empty_tip_is_named_by_its_place() -> None:
    catalog = "catalog: c\ntags: {all: true}\ntips:\n  - {id: a, tags: [all], text: ' '}\n"
    assert problems(f=FLOW_WITH_TIPS, c=catalog) == ["c.yaml > tips[0].text: the text is empty"]


def test_a_step_may_go_on_to_a_step_of_the_same_name_in_another_flow() -> None:
    main = (
        "flow: main\nversion: 1\nentry: true\nstart: intro\nsteps:\n"
        "  intro:\n    say: Hi\n    next: 'other:intro'\n"
    )
    other = (
        "flow: other\nversion: 1\nstart: intro\nsteps:\n"
        "  intro:\n    say: Ready?\n    ask: {type: yes_no, save: ready}\n    next: bye\n"
        "  bye:\n    say: Bye\n    end: true\n"
    )
    assert sorted(loads(main=main, other=other).flows) == ["main", "other"]


def test_a_folder_without_flows_says_so() -> None:
    catalog = "catalog: c\ntags: {all: true}\ntips:\n  - {id: a, tags: [all], text: Walk.}\n"
    assert problems(c=catalog) == [
        "flows: no flow found: at least one file must start with 'flow:'"
    ]


def test_several_flows_need_one_marked_as_the_entry() -> None:
    one = QUESTION_FLOW.format(ask="{type: yes_no, save: y}")
    two = one.replace("flow: f", "flow: g").replace("save: y", "save: z")
    assert problems(a=one, b=two) == [
        "a.yaml > entry: several flows and none is marked 'entry: true': mark the one /start opens"
    ]


def test_a_broken_file_does_not_hide_the_mistakes_of_the_next() -> None:
    good_flow = QUESTION_FLOW.format(ask="{type: yes_no, save: y}")
    assert problems(a="flow: [a\n", b=good_flow.replace("next: bye", "next: by")) == [
        "a.yaml: line 2, column 1: expected ',' or ']', but got '<stream end>' "
        "(a list in [ ] or a mapping in { } is not closed, or a text in it needs quotes)",
        "b.yaml > steps.q > next: unknown step 'by' (did you mean 'bye'?)",
        "b.yaml > steps.bye: unreachable: no button, next, branch or route leads here "
        "(link it or remove it)",
    ]


def test_bad_html_in_one_language_does_not_hide_the_next() -> None:
    flow = QUESTION_FLOW.format(ask="{type: yes_no, save: y}").replace(
        'say: "Bye"', "say: {en: '<b>Bye', de: 'Hallo {x}'}"
    )
    assert problems(f=flow) == [
        "f.yaml > steps.bye > say (en): invalid Telegram HTML: <b> is never closed",
        "f.yaml > steps.bye > say (de): unknown placeholder '{x}' "
        "(known: ci_act1, ci_act2, ci_act3, ci_count, ci_recent, ci_worse_run, emergency_number,"
        " in_quiet_time, quiet_check_for, quiet_from, quiet_next_day, quiet_until,"
        " recent_red_flag, urgent_care, y)",
    ]


def test_transcript_files_beside_the_flows_are_skipped_not_the_end() -> None:
    good_flow = QUESTION_FLOW.format(ask="{type: yes_no, save: y}")
    assert list(loads(a="transcript: walk through\n", b=good_flow).flows) == ["f"]


def test_a_misspelt_if_is_suggested_as_written() -> None:
    assert step_problems("say: Hi\nbranch:\n  - {iff: true, go: bye}") == [
        "f.yaml > steps.s > branch[0].iff: unknown key 'iff' (did you mean 'if'?)"
    ]


def test_a_version_below_one_says_the_rule() -> None:
    flow = QUESTION_FLOW.format(ask="{type: yes_no, save: y}").replace("version: 1", "version: 0")
    assert problems(f=flow) == ["f.yaml > version: should be greater than or equal to 1 (got 0)"]


def test_an_action_of_the_wrong_shape_is_named() -> None:
    assert step_problems("say: Hi\ndo: [[clear_answers]]\nnext: bye") == [
        "f.yaml > steps.s > do[0]: ['clear_answers'] has the wrong shape here"
    ]


def test_an_empty_none_text_of_tips_is_named() -> None:
    catalog = "catalog: c\ntags: {all: true}\ntips:\n  - {id: a, tags: [all], text: Walk.}\n"
    flow = FLOW_WITH_TIPS.replace("tips: {catalog: c}", "tips: {catalog: c, none: ' '}")
    assert problems(f=flow, c=catalog) == ["f.yaml > steps.tips > tips > none: the text is empty"]


def test_two_circles_in_one_flow_are_both_named() -> None:
    flow = (
        FLOW_HEAD + "start: a\nsteps:\n"
        "  a:\n    say: A\n    next: b\n"
        "  b:\n    say: B\n    next: a\n"
        "  c:\n    say: C\n    next: d\n"
        "  d:\n    say: D\n    next: c\n"
        "  e:\n    say: E\n    buttons:\n      - {label: C, go: c}\n      - {label: A, go: a}\n"
    )
    assert problems(f=flow.replace("start: a", "start: e")) == [
        "f.yaml > steps.a: goes round in a circle without waiting for the person: a -> b -> a",
        "f.yaml > steps.c: goes round in a circle without waiting for the person: c -> d -> c",
    ]


def test_an_empty_label_in_one_language_names_the_language() -> None:
    assert step_problems("say: Hi\nbuttons:\n  - {label: {en: ' ', de: Weiter}, go: bye}") == [
        "f.yaml > steps.s > buttons[0].label (en): the label is empty"
    ]


# ---------------------------------------------------------------- files of other kinds


FLOW_SAVING_Y = QUESTION_FLOW.format(ask="{type: yes_no, save: y}")


def test_a_file_of_no_known_kind_is_named() -> None:
    assert problems(f=FLOW_SAVING_Y, x="hello: world\n") == [
        "x.yaml: not a flow, catalog, texts or transcript: the file must start with 'flow:', "
        "'catalog:', 'texts:' or 'transcript:'"
    ]


def test_two_flows_with_one_id_name_the_other_file() -> None:
    assert problems(a=FLOW_SAVING_Y, b=FLOW_SAVING_Y)[:1] == [
        "b.yaml > flow: duplicate flow id 'f' (also in a.yaml)"
    ]


def test_follow_ups_and_audiences_beside_the_flows_are_checked_against_them() -> None:
    good_followups = (
        "followups: w\nmessages:\n  - {id: a, day: 0, say: Hi., if: {answer: y, equals: true}}\n"
    )
    good_audiences = "audiences:\n  ready: {label: Ready, if: {answer: y, equals: true}}\n"
    bundle = loads(f=FLOW_SAVING_Y, g=good_followups, h=good_audiences)
    assert list(bundle.flows) == ["f"]
    assert problems(
        f=FLOW_SAVING_Y,
        g=good_followups.replace("answer: y", "answer: z"),
        h=good_audiences.replace("answer: y", "answer: q"),
    ) == [
        "h.yaml > audiences > ready > if: no step saves an answer named 'q'",
        "g.yaml > messages[0].if: no step saves an answer named 'z'",
    ]


def test_a_broken_policy_does_not_hide_earlier_problems() -> None:
    assert problems(a="flow: [\n", f=FLOW_SAVING_Y, privacy="policy: p\nversion: 0\n")[:2] == [
        "a.yaml: line 2, column 1: expected the node content, but found '<stream end>'",
        "privacy.yaml > version: should be greater than or equal to 1 (got 0)",
    ]
