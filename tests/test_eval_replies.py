"""The scoring of eval-replies and eval-locomo --answers: what counts as a pass, and the paper's token F1."""

from __future__ import annotations

import pytest

from bench.eval_replies import checks
from bench.locomo import Conversation, Question
from bench.locomo_answers import multi_f1, normalise, score, stratified, token_f1
from bench.replies_suite import BEHAVIOURS, CASES, Case


def test_the_suite_is_big_and_covers_every_behaviour_with_held_out_cases():
    assert len(CASES) >= 60 and len({c.name for c in CASES}) == len(CASES)
    for behaviour in BEHAVIOURS:
        cases = [c for c in CASES if c.behaviour == behaviour]
        # A held-out case whose failing reply was read becomes a tuned one (2026-12-08: re-wifi, gp-ball,
        # up-h-music, pr-held-vegan); a fresh held-out set is written apart, by someone who tunes nothing.
        assert len(cases) >= 9 and sum(c.held_out for c in cases) >= 2
    for behaviour in ("update", "correction", "gather", "preference"):  # issue 24: at least 20 each, ~a third held out
        cases = [c for c in CASES if c.behaviour == behaviour]
        assert len(cases) >= 20 and sum(c.held_out for c in cases) >= 5
        assert len({c.asker for c in cases}) >= 9 and all(c.expect or c.expect_all or c.avoid for c in cases)


@pytest.mark.parametrize(("reply", "passes"), [
    ("You live in Madrid now (before that: Porto).", True),
    ("You live in Madrid.", True),
    ("You live in Porto.", False),  # the outdated value
    ("You lived in Porto, then in Madrid.", False),  # the outdated value first
    ("I don't know.", False),
])
def test_a_fact_that_changed_must_be_answered_with_its_current_value_first(reply, passes):
    case = Case("t", "update", (("Ana", "I live in Porto."), ("Ana", "I moved to Madrid.")), "Where do I live?",
                expect=("madrid",), old=("porto",))
    assert all(checks(case, reply).values()) is passes


def test_the_knowledge_update_set_is_big_has_a_held_out_part_and_only_references_locomo():
    from bench.updates_suite import LOCOMO, cases, written

    chosen = cases()
    assert len(written()) >= 100 and len({c.name for c in chosen}) == len(chosen)
    assert 20 <= sum(c.held_out for c in chosen) < len(chosen) // 2
    assert all(c.conversation and c.turns and not c.said for c in LOCOMO)  # ids only, no LoCoMo text
    assert all(c.said and len(c.said) >= 3 and c.expect for c in written())


@pytest.mark.parametrize(("reply", "passes"), [
    ("Noted: you're allergic to penicillin.", True),
    ("I'm sorry, but as a memory-based AI, I don't have the ability to remember things.", False),  # denial
    ("Mia starts school on September 3rd.", False),  # an unrelated memory, and irrelevant
    ("U1001: I'm allergic to penicillin.", False),  # a transcript line
    ("Penicillin is a drug. Penicillin is a drug.", False),  # a repeated sentence
    ("Today is 2026-12-01.", False),  # the prompt said back
])
def test_statement_checks(reply, passes):
    case = Case("t", "statement", (("Ana", "Mia starts school on September 3rd."),),
                "I'm allergic to penicillin.", asker="Ana", avoid=("mia", "school"))
    assert all(checks(case, reply).values()) is passes


def test_a_never_told_question_must_be_declined():
    case = Case("t", "unknown", (), "What is my brother's name?")
    assert all(checks(case, "I don't know — you haven't told me that yet.").values())
    assert not all(checks(case, "Your brother's name is Erykos.").values())


def test_locomo_scoring_follows_the_paper():
    assert normalise("The Adoption, agencies!") == "adoption agencies"
    assert token_f1("Researching adoption agencies.", "Adoption agencies") == pytest.approx(0.8)
    assert token_f1("nothing in common", "Adoption agencies") == 0.0
    assert multi_f1("dinosaurs, nature", "Dinosaurs, nature") == 1.0
    assert multi_f1("dinosaurs", "dinosaurs, nature") == pytest.approx(0.5)
    assert score(Question("q", "3", [], "Psychology; counseling"), "psychology") == 1.0
    assert score(Question("q", "5", [], "x"), "I don't know.") == 1.0
    assert score(Question("q", "5", [], "x"), "Self-care is important.") == 0.0
    assert score(Question("q", "5", [], "x"), "As far as I recall, that was Melanie, not Caroline.") == 1.0


def test_a_limit_takes_the_same_number_from_each_category():
    conv = Conversation("c", questions=[Question(f"q{c}{i}", c, []) for c in "12345" for i in range(10)])
    chosen = stratified([conv], 10)
    assert sorted(q.category for _, q in chosen) == sorted("1122334455")
    assert stratified([conv], 10) == chosen and len(stratified([conv], None)) == 50
    headline = stratified([conv], 8, ("1", "2", "3", "4"))  # --categories 1 2 3 4
    assert sorted(q.category for _, q in headline) == sorted("11223344")
    assert len(stratified([conv], None, ("1", "2", "3", "4"))) == 40


def test_reminder_requests_cover_five_other_languages_with_held_out_cases():
    from bench.replies_suite import REMINDER_CASES

    assert len({c.name for c in REMINDER_CASES}) == len(REMINDER_CASES)
    other = {c.lang for c in REMINDER_CASES} - {"en"}
    assert len(other) >= 5
    for lang in other:
        cases = [c for c in REMINDER_CASES if c.lang == lang]
        assert len(cases) >= 6 and sum(c.held_out for c in cases) >= 2, lang


def test_a_reminder_passes_only_when_set_right_and_confirmed_in_its_language():
    from datetime import datetime, timezone

    from bench.eval_replies import reminder_checks
    from bench.replies_suite import ReminderCase
    from memory.reminders import Reminder

    def set_for(hour: int) -> Reminder:
        due = datetime(2026, 12, 8, hour, 0, tzinfo=timezone.utc).timestamp()
        return Reminder(id=1, chat_id=1, created_by=None, text="позвонить маме", due_at=due, recurrence=None,
                        timezone="UTC", status="pending", created_at=0.0)

    case = ReminderCase("t", "ru", "напомни мне завтра в 9 позвонить маме", "Tue 08 09:00", "позвонить маме")
    assert all(reminder_checks(case, set_for(9), "⏰ Хорошо, напомню вт 08 дек. 2026 09:00 (UTC): позвонить маме")
               .values())
    assert not all(reminder_checks(case, set_for(9), "⏰ OK, I will remind you on Tue 08 Dec 2026 09:00 (UTC): …")
                   .values())
    assert not reminder_checks(case, set_for(21), "⏰ Хорошо, напомню …")["due"]
    assert reminder_checks(case, None, "") == {"set": False}


@pytest.mark.parametrize(("case", "reply", "passes"), [
    ("ga-schedule", "Here's what you've told me is planned for 6-12 December:\n"
                    "- Tuesday 8 December: You have a dentist appointment on Tuesday at 10.\n"
                    "- Thursday 10 December: On Thursday you fly to Rome.", True),
    ("ga-schedule", "I don't know — you haven't told me that yet.", False),
    ("ga-schedule", "- Tuesday 8 December: dentist\n- Thursday: Rome\n- green tea", False),  # listed the tea
    ("pr-dinner", "How about a mushroom risotto? No meat or fish in it.", True),  # names them only to leave out
    ("pr-dinner", "Try a chicken curry.", False),
    ("pr-dinner", "I don't know — you haven't told me that yet.", False),
    ("pr-dinner", "What would you like for dinner?", False),  # asked back
    ("pr-dinner", "A dinner you could cook tonight.", False),  # the request said back: no idea of its own
])
def test_gather_and_preference_checks(case, reply, passes):
    assert all(checks(next(c for c in CASES if c.name == case), reply).values()) is passes


def test_the_language_cases_cover_five_other_languages_with_held_out_cases():
    from bench.replies_suite import LANGUAGE_CASES

    assert len({c.name for c in LANGUAGE_CASES}) == len(LANGUAGE_CASES)
    langs = {c.lang for c in LANGUAGE_CASES}
    assert "en" not in langs and len(langs) >= 5
    for lang in langs:
        mine = [c for c in LANGUAGE_CASES if c.lang == lang]
        assert {c.behaviour for c in mine} == {"statement", "recall", "unknown"}
        assert sum(c.held_out for c in mine) >= 1, lang  # es and pt: two read, tuned since (replies_suite READ)


def test_a_never_told_question_is_declined_in_the_chat_s_language():
    case = Case("t", "unknown", (("Ольга", "Мою собаку зовут Барон."),), "Как зовут моего брата?", lang="ru")
    assert checks(case, "Не знаю — вы мне этого ещё не говорили.")["declines"]
    assert not checks(case, "Вы мне говорили: «Мою собаку зовут Барон.»")["declines"]
    statement = Case("s", "statement", (), "Мою собаку зовут Барон.", lang="ru")
    assert all(checks(statement, "Записал: «Мою собаку зовут Барон».").values())
    assert not all(checks(statement, "Мою собаку зовут Барон.").values())  # said back word for word


def test_the_fresh_held_out_set_is_held_out_well_formed_and_not_passed_by_saying_the_question_back():
    """bench/replies_heldout.py, written blind: its shape only (no reply of the model is involved)."""
    from datetime import datetime

    from bench.replies_conversations import ACTION_CASES, ECHO_CASES
    from bench.replies_heldout import (
        HELDOUT_ACTION_CASES,
        HELDOUT_CASES,
        HELDOUT_ECHO_CASES,
        HELDOUT_LANGUAGE_CASES,
        HELDOUT_REMINDER_CASES,
    )
    from bench.replies_suite import LANGUAGE_CASES, REMINDER_CASES

    fresh = (*HELDOUT_CASES, *HELDOUT_LANGUAGE_CASES, *HELDOUT_REMINDER_CASES, *HELDOUT_ACTION_CASES,
             *HELDOUT_ECHO_CASES)
    everything = (*CASES, *LANGUAGE_CASES, *REMINDER_CASES, *ACTION_CASES, *ECHO_CASES, *fresh)
    assert len({c.name for c in everything}) == len(everything)
    # read after they failed (a "never" property; the fix is general), so tuned now
    looked_at = {"h2-ac-evening", "h2-ac-bins", "h2-ac-pin", "h2-rm-ru-minutes", "h2-rm-uk-saturdays", "h2-rm-es-half",
                 "h2-rm-pt-wednesdays", "h2-rm-de-thursday", "h2-rm-fa-half"}
    assert all((c.held_out or c.name in looked_at) and c.name.startswith("h2-") for c in fresh)
    for behaviour in BEHAVIOURS:
        mine = [c for c in HELDOUT_CASES if c.behaviour == behaviour]
        wanted = 6 if behaviour in ("update", "correction", "gather", "preference") else 4
        assert len(mine) >= wanted and len({c.asker for c in mine}) == len(mine), behaviour
    assert len(HELDOUT_ACTION_CASES) >= 6 and len(HELDOUT_ECHO_CASES) >= 6
    assert {c.action for c in HELDOUT_ACTION_CASES} == {"remind", "cancel", "list", "forget", None}
    for lang in ("es", "pt", "fa", "ru", "uk", "de"):
        assert sorted(c.behaviour for c in HELDOUT_LANGUAGE_CASES if c.lang == lang) == ["recall", "statement",
                                                                                         "unknown"], lang
        assert len([c for c in HELDOUT_REMINDER_CASES if c.lang == lang]) == 2, lang
    for r in HELDOUT_REMINDER_CASES:
        datetime.strptime(r.due, "%a %d %H:%M")
    for case in (*HELDOUT_CASES, *HELDOUT_LANGUAGE_CASES):
        assert case.behaviour in BEHAVIOURS and (not case.ago or len(case.ago) == len(case.said)), case.name
        assert all(v == v.lower() for v in (*case.expect, *case.expect_all, *case.avoid, *case.old)), case.name
        result = checks(case, case.probe)  # the question said back
        assert all(isinstance(v, bool) for v in result.values()), case.name
        if case.expect or case.expect_all:
            assert not all(result.values()), case.name
        if case.old:  # the outdated value alone fails
            assert not checks(case, f"It's {case.old[0]}.")["current first"], case.name


def test_the_third_held_out_set_is_held_out_well_formed_and_scoreable():
    """bench/replies_heldout2.py, written blind: its shape, names unique among all cases, all held out, each
    question said back fails it, and a correct answer (hand-written here, not the model's) passes it."""
    from datetime import datetime

    from bench.replies_conversations import ACTION_CASES, ECHO_CASES, LANGUAGE_ACTION_CASES
    from bench.replies_heldout import (
        HELDOUT_ACTION_CASES,
        HELDOUT_CASES,
        HELDOUT_ECHO_CASES,
        HELDOUT_LANGUAGE_CASES,
        HELDOUT_REMINDER_CASES,
    )
    from bench.replies_heldout2 import (
        HELDOUT2_ACTION_CASES,
        HELDOUT2_CASES,
        HELDOUT2_ECHO_CASES,
        HELDOUT2_LANGUAGE_ACTION_CASES,
        HELDOUT2_LANGUAGE_CASES,
        HELDOUT2_REMINDER_CASES,
    )
    from bench.replies_suite import LANGUAGE_CASES, REMINDER_CASES

    third = (*HELDOUT2_CASES, *HELDOUT2_LANGUAGE_CASES, *HELDOUT2_REMINDER_CASES, *HELDOUT2_ACTION_CASES,
             *HELDOUT2_LANGUAGE_ACTION_CASES, *HELDOUT2_ECHO_CASES)
    everything = (*CASES, *LANGUAGE_CASES, *REMINDER_CASES, *ACTION_CASES, *LANGUAGE_ACTION_CASES, *ECHO_CASES,
                  *HELDOUT_CASES, *HELDOUT_LANGUAGE_CASES, *HELDOUT_REMINDER_CASES, *HELDOUT_ACTION_CASES,
                  *HELDOUT_ECHO_CASES, *third)
    assert len(third) >= 120 and len({c.name for c in everything}) == len(everything)
    assert all(c.held_out and c.name.startswith("h3-") for c in third)
    for behaviour in ("update", "correction", "gather", "preference", "recall", "group", "unknown"):
        mine = [c for c in HELDOUT2_CASES if c.behaviour == behaviour]
        assert len(mine) >= 6 and len({c.asker for c in mine}) == len(mine), behaviour
    assert len(HELDOUT2_ECHO_CASES) >= 6 and len(HELDOUT2_ACTION_CASES) >= 6
    assert {c.action for c in HELDOUT2_ACTION_CASES} == {"remind", "cancel", "list", "forget", None}
    for lang in ("es", "pt", "fa", "ru", "uk", "de"):
        assert sorted(c.behaviour for c in HELDOUT2_LANGUAGE_CASES if c.lang == lang) == [
            "recall", "recall", "statement", "unknown"], lang
        assert len([c for c in HELDOUT2_REMINDER_CASES if c.lang == lang]) == 3, lang
        assert sorted(c.action or "" for c in HELDOUT2_LANGUAGE_ACTION_CASES if c.lang == lang) == [
            "cancel", "forget", "list"], lang
    for r in HELDOUT2_REMINDER_CASES:
        datetime.strptime(r.due, "%a %d %H:%M")
    for action in (*HELDOUT2_ACTION_CASES, *HELDOUT2_LANGUAGE_ACTION_CASES):
        assert action.gone == action.gone.lower() and bool(action.gone) == bool(action.ask), action.name
    suggestions = {  # a suggestion that keeps to what the asker told, for each preference case
        "h3-pr-coeliac": "How about a flourless chocolate cake made with ground almonds?",
        "h3-pr-budget": "Cook her a homemade ramen dinner and watch a film together.",
        "h3-pr-lactose": "Porridge made with oat milk, topped with banana and peanut butter.",
        "h3-pr-mushrooms": "Try a lemon and pea risotto with parmesan.",
        "h3-pr-shellfish": "Since you're allergic to shellfish, go for grilled sea bass or hake.",
        "h3-pr-noalcohol": "Bring a homemade dessert or some sparkling elderflower.",
        "h3-pr-flying": "Take the Eurostar to Paris or a train to Edinburgh.",
    }
    for case in (*HELDOUT2_CASES, *HELDOUT2_LANGUAGE_CASES):
        assert case.behaviour in BEHAVIOURS and (not case.ago or len(case.ago) == len(case.said)), case.name
        assert all(v == v.lower() for v in (*case.expect, *case.expect_all, *case.avoid, *case.old)), case.name
        said_back = checks(case, case.probe)
        if case.expect or case.expect_all:
            assert not all(said_back.values()), case.name
        if case.old:
            assert not checks(case, f"It's {case.old[0]}.")["current first"], case.name
        if case.behaviour == "unknown":
            right = "I don't know — you haven't told me that yet."
        elif case.behaviour == "preference":
            right = suggestions[case.name]
        elif case.behaviour == "statement":
            right = f"«{case.probe}» 👍"
        else:
            right = "Here: " + ", ".join(case.expect_all) + (f" {case.expect[0]}" if case.expect else "") + "."
        assert all(checks(case, right).values()), (case.name, right)


def test_an_action_in_another_language_acknowledged_as_a_statement_fails():
    from bench.replies_conversations import LANGUAGE_ACTION_CASES, action_checks

    case = next(c for c in LANGUAGE_ACTION_CASES if c.name == "ac-ru-forget")
    never = "never acknowledged as a statement"
    assert not action_checks(case, "engram> Записал: «забудь пароль от wifi».", [], [], "")[never]
    preview = "engram> Забыть 2 сообщения?\n\n[2026-12-07 23:43] Engram: Записал: «Пароль от wifi дома — тюльпан77»."
    assert action_checks(case, preview, [], [], "")[never]  # the preview quotes what was stored: no acknowledgement
    fa = next(c for c in LANGUAGE_ACTION_CASES if c.name == "ac-fa-forget")
    assert not action_checks(fa, "\u2068یادداشت شد: «\u2068رمز وای‌فای را فراموش کن\u2069».", [], [], "")[never]


def test_the_language_action_cases_cover_every_action_in_six_languages_with_held_out_cases():
    from bench.replies_conversations import LANGUAGE_ACTION_CASES

    assert len({c.name for c in LANGUAGE_ACTION_CASES}) == len(LANGUAGE_ACTION_CASES)
    langs = {c.lang for c in LANGUAGE_ACTION_CASES}
    assert langs == {"ru", "uk", "es", "pt", "de", "fa"}
    for lang in langs:
        mine = [c for c in LANGUAGE_ACTION_CASES if c.lang == lang]
        assert {"cancel", "list", "forget", None} <= {c.action for c in mine}, lang
        assert sum(c.held_out for c in mine) >= 2, lang
