"""Issue 24, item 1: facts that change. Of the memories answering the same question the newest wins, a correction
supersedes what it corrects, "before" questions still find the old value, nothing is deleted, and /why says which
memory was preferred and why. The issue's three conversations are replayed in the terminal chat and through the
fake Bot API with a scripted model that would answer with the old value if it were asked (it is not: the answer
is decided without it); the real model's test is in tests/test_reply_real.py.
"""

from __future__ import annotations

import io

import pytest
from fake_llm import ScriptedLLM
from telegram_helpers import bot_config, bot_running, command, converse

from bot import text
from bot.cli.chat import Terminal
from bot.commands import actions, views
from bot.config import Config, RecallConfig, Statements
from bot.reply.assistant import Assistant
from bot.reply.updates import anaphoric, as_current, asked, claims, drops, resolve, restated, supersede
from bot.services import build_assistant
from memory import HashEmbedder, Hit, Message
from memory.text import content_words

pytestmark = pytest.mark.timeout(90)

# The conversations: (what was told, oldest first), the question, the current value, the outdated one.
CONVERSATIONS = [
    (["I live in Porto.", "I moved to Madrid last week."], "Where do I live?", "Madrid", "Porto"),
    (["I live in Lisbon.", "My cat sleeps all day.", "Last month I moved to Berlin for a new job."],
     "Which city do I live in now?", "Berlin", "Lisbon"),
    (["My dog is called Rex.", "Sorry, I got that wrong: my dog is called Max. Rex was my old cat."],
     "What is my dog's name?", "Max", "Rex"),
]


def hit(said: str, n: int, who: str = "Ana", sender_id: int = 7) -> Hit:
    return Hit(Message(1, n, said, sender_name=who, sender_id=sender_id, created_at=1_000_000.0 + 60 * n), 1.0)


def ask(question: str, who: str = "Ana", sender_id: int = 7) -> Message:
    return Message(1, 99, question, sender_name=who, sender_id=sender_id, created_at=2_000_000.0)


def current_first(reply: str, new: str, old: str) -> bool:
    """The current value is given; the outdated one, if said at all, only after it (as what changed)."""
    low = reply.lower()
    return new.lower() in low and (old.lower() not in low or low.index(new.lower()) < low.index(old.lower()))


# ----- reading claims and questions -------------------------------------------------------------------------------
@pytest.mark.parametrize("said, slot, owner, relation, value", [
    ("I live in Porto.", "residence", "ana", "", "Porto"),
    ("Last month I moved to Berlin for a new job.", "residence", "ana", "", "Berlin"),
    ("We've relocated to Milan.", "residence", "ana", "", "Milan"),
    ("I'm living in Ghent now.", "residence", "ana", "", "Ghent"),
    ("My sister moved to Bergen in May.", "residence", "ana", "sister", "Bergen"),
    ("Bo lives in Rome.", "residence", "bo", "", "Rome"),
    ("I no longer live in Porto.", "residence", "ana", "", None),
    ("I got a new job at Google.", "work", "ana", "", "Google"),
    ("I work for the city council.", "work", "ana", "", "the city council"),
    ("I left the bank.", "work", "ana", "", None),
    ("I work as a nurse.", "occupation", "ana", "", "a nurse"),
    ("Sorry, I got that wrong: my dog is called Max.", "thing", "ana", "", "Max"),
    ("Actually, my dog is called Max, not Rex.", "thing", "ana", "", "Max"),
    ("My favourite colour is now green.", "thing", "ana", "", "green"),
    ("I changed my phone number to 555-9876.", "thing", "ana", "", "555-9876"),
    ("We're renting a small flat in Graz.", "residence", "ana", "", "Graz"),  # a home somewhere: living there
    ("We bought a house in Cork last spring.", "residence", "ana", "", "Cork"),
    ("My brother moved into a new apartment in Lyon.", "residence", "ana", "brother", "Lyon"),
])
def test_a_statement_is_read_for_the_fact_it_states(said, slot, owner, relation, value):
    found = claims(hit(said, 1))
    assert [(c.slot, c.owner, c.relation, c.value) for c in found] == [(slot, owner, relation, value)]


@pytest.mark.parametrize("said", ["We move to Porto in spring.", "I'm moving to Oslo next year.",
                                  "I used to live in Paris.", "Where do I live?", "I'm allergic to penicillin."])
def test_plans_the_past_and_other_talk_state_no_current_fact(said):
    assert claims(hit(said, 1)) == []


@pytest.mark.parametrize("question, slot, relation, before", [
    ("Where do I live?", "residence", "", False),
    ("Which city do I live in now?", "residence", "", False),
    ("Where did I live before?", "residence", "", True),
    ("Where does my sister live?", "residence", "sister", False),
    ("Where do I work?", "work", "", False),
    ("Who do I work for?", "work", "", False),
    ("What is my job?", "occupation", "", False),
    ("What is my dog's name?", "thing", "", False),
])
def test_a_question_is_read_for_the_fact_it_asks(question, slot, relation, before):
    a = asked(question, ask(question))
    assert a is not None and (a.slot, a.relation, a.before) == (slot, relation, before)


@pytest.mark.parametrize("said, question, new, old", [c[:4] for c in CONVERSATIONS] + [
    (["I work at the bank.", "I got a new job at Google."], "Where do I work?", "Google", "the bank"),
    (["I work at Siemens.", "I left Siemens and now I work at Bosch."], "Where do I work?", "Bosch", "Siemens"),
    (["My sister lives in Oslo.", "My sister moved to Bergen."], "Where does my sister live?", "Bergen", "Oslo"),
    (["My phone number is 555-1234.", "I changed my phone number to 555-9876."], "What is my phone number?",
     "555-9876", "555-1234"),
])
def test_the_newest_value_wins_and_the_older_is_kept_as_earlier(said, question, new, old):
    hits = [hit(s, n) for n, s in enumerate(said, start=1)]
    for order in (hits, list(reversed(hits))):  # recall's order does not matter: when it was said does
        resolved = resolve(question, order, ask(question))
        assert resolved is not None and resolved.answer is not None
        assert current_first(resolved.answer, new, old), resolved.answer
        assert resolved.memories[0].message.text == said[-1] and resolved.preference.preferred is resolved.memories[0]
        assert old.lower() in resolved.preference.reason.lower()


def test_claims_about_another_side_of_the_same_thing_do_not_compete():
    hits = [hit("The report is due on Friday.", 1), hit("The report is great.", 2)]
    assert resolve("When is the report due?", hits, ask("When is the report due?")) is None  # the model answers
    hits.append(hit("Correction: the report is due on Monday.", 3))
    resolved = resolve("When is the report due?", hits, ask("When is the report due?"))
    assert resolved is not None and resolved.answer == "The report is due on Monday (earlier: due on Friday)."


def test_where_did_i_live_before_finds_the_old_value():
    hits = [hit("I live in Porto.", 1), hit("I moved to Madrid last week.", 2)]
    resolved = resolve("Where did I live before?", hits, ask("Where did I live before?"))
    assert resolved is not None and resolved.answer == "Before Madrid, you lived in Porto."
    assert resolved.memories[0].message.text == "I live in Porto."  # cited: the old memory


def test_still_questions_are_answered_yes_or_no_from_the_newest_claim():
    moved = [hit("I live in Porto.", 1), hit("I moved to Madrid last week.", 2)]
    q = "Do I still live in Porto?"
    assert resolve(q, moved, ask(q)).answer == "No — as far as I recall, you live in Madrid now."
    assert resolve(q, moved[:1], ask(q)).answer == "Yes — as far as I recall, you live in Porto."
    lost = [hit("Lost my job as a banker yesterday, so I'm gonna start my own business.", 1, "Jon", 9)]
    q = "Does Jon still work as a banker?"
    assert resolve(q, lost, ask(q)).answer == "No — as far as I recall, Jon no longer works as a banker."


def test_one_value_never_changed_is_left_to_the_model_and_others_facts_are_not_the_askers():
    assert resolve("What is my dog's name?", [hit("My dog is called Rex.", 1)], ask("What is my dog's name?")) is None
    bo = [hit("I live in Rome.", 1, "Bo", 8), hit("I moved to Milan.", 2, "Bo", 8)]
    assert resolve("Where do I live?", bo, ask("Where do I live?")) is None  # Bo's home, not Ana's
    resolved = resolve("Where does Bo live?", bo, ask("Where does Bo live?"))
    assert resolved is not None and resolved.answer == "Bo lives in Milan now (before that: Rome)."


def test_a_correction_the_slots_do_not_read_still_supersedes_for_the_model():
    older, newer = hit("The team meeting is on Tuesday.", 1), hit("Actually the team meeting moved to Thursday.", 2)
    kept, preference = supersede("When is the team meeting?", [older, newer])
    assert kept == [newer] and preference is not None and preference.earlier == [older]
    kept, preference = supersede("When was the team meeting before?", [older, newer])  # what it replaced answers
    assert kept == [older, newer] and preference is not None and preference.preferred is older
    assert supersede("When is the team meeting?", [hit("The team meeting is on Tuesday.", 1),
                                                    hit("The team meeting went well.", 2)])[1] is None


# ----- through the assistant, the terminal and Telegram ------------------------------------------------------------
def outdated_model(messages) -> str:
    """A model that answers with the oldest memory it is shown: what SmolLM2-135M did (issue 24)."""
    lines = [line for line in messages[-1]["content"].splitlines() if line.startswith("- ")]
    return lines[-1].split('"')[1] if lines else "I don't know."


async def test_the_assistant_answers_the_current_value_cites_it_and_deletes_nothing(memory):
    llm = ScriptedLLM(outdated_model)
    await llm.start()
    recall = RecallConfig(k=6, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    from bot.config import AssistantConfig
    from bot.llm.base import GenerationSettings
    assistant = Assistant(memory, llm, recall=recall, settings=GenerationSettings(),
                          assistant=AssistantConfig(system_prompt="S", statements=Statements.NOTE))
    for chat, (said, question, new, old) in enumerate(CONVERSATIONS, start=1):
        for s in said:
            await assistant.reply_text(Message(chat, await assistant.next_message_id(chat), s, sender_name="Zoe"))
        reply = await assistant.reply_text(Message(chat, await assistant.next_message_id(chat), question,
                                                   sender_name="Zoe"))
        assert current_first(reply.text, new, old), reply.text
        assert reply.citation is not None and reply.citation.message.text == said[-1]
        assert reply.preference is not None and reply.preference.preferred.message.text == said[-1]
        why = views.why_text(await actions.why(assistant, chat), text.PLAIN, assistant.last_preference(chat))
        assert "★ preferred" in why and said[0] in why and "earlier: superseded" in why
        stored = [m["text"] for m in await memory.messages.export(chat)]
        assert all(s in stored for s in said)  # nothing deleted
    before = await assistant.reply_text(Message(1, await assistant.next_message_id(1), "Where did I live before?",
                                                sender_name="Zoe"))
    assert before.text == "Before Madrid, you lived in Porto."
    assert llm.calls == []  # every answer above was decided without the model


async def replay_terminal(terminal: Terminal, lines: list[str]) -> str:
    """Lines typed into the terminal chat as its loop takes them (bot/cli/chat.py Terminal.line)."""
    for line in lines:
        await terminal.line(line)
    out = terminal.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


@pytest.mark.parametrize("said, question, new, old", CONVERSATIONS)
async def test_the_conversations_in_the_terminal_chat(tmp_path, memory, said, question, new, old):
    config = Config(base_dir=tmp_path)
    terminal = Terminal(config, 0, "Zoe", out=io.StringIO())
    llm = ScriptedLLM(outdated_model)
    await llm.start()
    terminal.assistant = build_assistant(config, memory, llm)
    await terminal.start_reminders(memory, sweep_seconds=0)
    try:
        shown = await replay_terminal(terminal, [*said, question])
        answer = shown.rsplit("engram> ", 1)[1]
        assert current_first(answer.splitlines()[0], new, old), shown
        assert f": “{said[-1].split()[0]}" in answer.splitlines()[1]  # cited: the newer message
        why = (await replay_terminal(terminal, ["/why"])).rsplit(answer, 1)[1]
        assert "★ preferred" in why and said[0] in why
    finally:
        await terminal.stop_reminders()


@pytest.mark.parametrize("said, question, new, old", CONVERSATIONS)
async def test_the_conversations_through_the_bot_api(fake, tmp_path, said, question, new, old):
    config = bot_config(tmp_path, fake, allowed_user_ids=[1001])
    config.assistant.statements = Statements.NOTE
    async with bot_running(config, ScriptedLLM(outdated_model), HashEmbedder(64)) as services:
        for s in said:
            await converse(fake, services, 1001, s)
        reply = await converse(fake, services, 1001, question)
        assert current_first(reply.splitlines()[0], new, old), reply
        assert said[-1].split()[0] in reply.splitlines()[-1]  # the citation: the newer message
        why = await command(fake, 1001, "/why")
        assert "★ preferred" in why["text"] and said[0] in why["text"]


def test_a_name_starting_with_my_is_a_person_not_a_possessive():
    """"Myra works at Google." made every later question of the chat fail (the holder "my …" read "Myra")."""
    from bot.reply.updates import asked, claims
    from memory import Hit

    said = Message(1, 1, "Myra works at Google.", sender_name="Ana", created_at=1.0)
    assert [(c.owner, c.relation, c.value) for c in claims(Hit(said, 1.0))] == [("myra", "", "Google")]
    question = Message(1, 2, "Where does Myra work?", sender_name="Ana", created_at=2.0)
    assert asked(question.text, question) is not None


# ----- a change said as what was given up and what holds now ----------------------------------------------------------
@pytest.mark.parametrize("said, now", [
    ("I gave up piano and now I play the cello.", "I play the cello."),
    ("I quit football, now I play rugby.", "I play rugby."),
    ("I stopped drinking tea and now I drink coffee.", "I drink coffee."),
    ("Last month I quit the choir and joined a band.", "I joined a band."),
    ("Tom quit the band and started a podcast.", "Tom started a podcast."),
    ("My sister left Oslo and now she lives in Bergen.", "My sister lives in Bergen."),
    ("I don't eat meat any more, these days I'm vegan.", "I'm vegan."),
    ("I no longer play chess, instead I play go.", "I play go."),
    ("I switched from the Ford to a Tesla.", "I switched to a Tesla."),
    ("Oops, my flight leaves at 9:15, not 7:40.", "My flight leaves at 9:15."),
    ("Ugh, I mixed them up: the recital is on the 9th, not the 19th.", "The recital is on the 9th."),
    ("Sorry, wrong day: the recital is on Friday.", "The recital is on Friday."),
    ("They put up the rent to 900 pounds, sigh.", "They put up the rent to 900 pounds."),
    ("I play the piano.", "I play the piano."),  # no change: as said
    ("I left the bank.", "I left the bank."),
])
def test_what_holds_now_is_read_from_a_change(said, now):
    assert as_current(said) == now


def test_what_a_change_gives_up():
    assert drops("I gave up piano and now I play the cello.") == content_words("piano")
    assert drops("I switched from the Ford to a Tesla.") == content_words("Ford")
    assert drops("I play the piano.") == set()


def test_a_correction_is_put_in_place_of_what_it_corrects():
    dinner = "Our team dinner is at The Olive Tree on Thursday."
    assert restated("Not The Olive Tree but Luigi's, the Olive Tree is closed.", [dinner]) == (
        "Our team dinner is at Luigi's on Thursday.")
    assert restated("Oh, actually it's 84, not 48.", ["My locker is number 48."]) == "My locker is number 84."
    assert restated("Actually it's at 7:30.", ["The quiz starts at 8:15 on Friday."]) == (
        "The quiz starts at 7:30 on Friday.")
    assert restated("Actually it's 84.", ["My locker is near the door."]) is None  # nothing of its kind to replace
    assert anaphoric("It is raining.") is None  # not a correction


def test_a_correction_that_names_no_subject_corrects_what_was_said_just_before():
    locker, fix = hit("My locker at the pool is number 48.", 1), hit("Actually it's 84, I always swap them.", 2)
    kept, preference = supersede("What's my locker number at the pool?", [locker], [locker, fix])
    assert kept == [fix] and preference is not None and preference.earlier == [locker]
    later = hit("Actually it's 84.", 200)  # hours later: not about the locker
    assert supersede("What's my locker number at the pool?", [locker], [locker, later]) == ([locker], None)


def test_a_change_recall_ranked_lower_still_supersedes():
    """Asked "What do I drink in the morning?", the older memory shares more words with the question and is the
    only one shown; the change among the rest of what was recalled supersedes it all the same."""
    older, newer = hit("I drink tea every morning.", 1), hit("I stopped drinking tea and now I drink coffee.", 2)
    kept, preference = supersede("What do I drink in the morning?", [older], [older, newer])
    assert kept == [newer] and preference is not None and preference.earlier == [older]
    car_then, car_now = hit("I drive a Ford.", 1), hit("I switched from the Ford to a Tesla.", 2)
    kept, preference = supersede("What car do I drive?", [car_then], [car_then, car_now])  # shares no word with it
    assert kept == [car_now] and preference is not None
    unrelated = hit("I switched my phone off.", 3)
    assert supersede("What car do I drive?", [car_then], [car_then, unrelated]) == ([car_then], None)
    kept, preference = supersede("What car did I drive before?", [car_then], [car_then, car_now])
    assert kept == [car_then, car_now] and preference is not None and preference.preferred is car_then


async def test_the_assistant_says_what_holds_now_without_the_model(memory):
    llm = ScriptedLLM(outdated_model)
    await llm.start()
    recall = RecallConfig(k=6, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    from bot.config import AssistantConfig
    from bot.llm.base import GenerationSettings
    assistant = Assistant(memory, llm, recall=recall, settings=GenerationSettings(),
                          assistant=AssistantConfig(system_prompt="S", statements=Statements.NOTE))
    for chat, (said, question, new, old) in enumerate([
        (["I play the piano.", "I gave up piano and now I play the cello."], "Which instrument do I play?", "cello",
         "piano"),
        (["I do pottery on Wednesdays.", "I gave up pottery and took up painting."], "What do I do on Wednesdays?",
         "painting", "pottery"),
        # a correction the slots do not read, put in place of what it corrects
        (["Our team dinner is at The Olive Tree on Thursday.",
          "Not The Olive Tree but Luigi's, it's closed."],
         "Where is the team dinner?", "luigi", "olive"),
        (["My allotment plot is number 31.", "Actually it's 13, I misread the sign."],
         "What's my allotment plot number?", "13", "31"),
        # a price that went up; and before a change, what it replaced
        (["My phone plan costs 20 pounds a month.", "They put up the price of my phone plan to 25 pounds."],
         "How much does my phone plan cost?", "25", "20"),
    ], start=1):
        for s in said:
            await assistant.reply_text(Message(chat, await assistant.next_message_id(chat), s, sender_name="Ines"))
        reply = await assistant.reply_text(Message(chat, await assistant.next_message_id(chat), question,
                                                   sender_name="Ines"))
        assert current_first(reply.text, new, old) and old not in reply.text.lower(), reply.text
        assert reply.preference is not None and reply.preference.preferred.message.text == said[-1]
    assert llm.calls == []
    # before a change, what it replaced answers (preferred, and cited), still without the model
    for said in ["I rode a Vespa to work for years.", "Sold the Vespa in May, I cycle now."]:
        await assistant.reply_text(Message(9, await assistant.next_message_id(9), said, sender_name="Ines"))
    reply = await assistant.reply_text(Message(9, await assistant.next_message_id(9),
                                               "What did I ride before I started cycling?", sender_name="Ines"))
    assert reply.text == "You rode a Vespa to work for years." and llm.calls == []
    assert reply.preference is not None and reply.preference.preferred.message.text.startswith("I rode a Vespa")


# ----- a review's finds: what a correction may change -------------------------------------------------------------
def test_a_correction_of_something_else_holding_the_same_weekday_changes_nothing():
    from bot.reply.plan import plan_reply
    dentist = hit("My dentist appointment is on Tuesday at 3pm.", 1)
    yoga = Hit(Message(1, 3, "Yoga is not on Tuesday but on Thursday this week.", sender_name="Ana", sender_id=7,
                       created_at=1_000_000.0 + 86_400), 1.0)
    plan = plan_reply("When is my dentist appointment?", [dentist], recalled=[dentist, yoga], asker="Ana",
                      message=ask("When is my dentist appointment?"))
    assert plan.preference is None and "Thursday" not in (plan.answer or "")


def test_two_people_of_one_first_name_do_not_correct_each_other():
    from bot.reply.plan import plan_reply
    smith = hit("My parking space is number 112.", 1, "Alex Smith", 11)
    brown = hit("Actually it's 121.", 3, "Alex Brown", 22)
    plan = plan_reply("What is my parking space number?", [smith], recalled=[smith, brown], asker="Alex Smith",
                      message=ask("What is my parking space number?", "Alex Smith", 11))
    assert "121" not in (plan.answer or "") and plan.preference is None


def test_it_is_corrects_only_the_message_right_before_it():
    from bot.reply.plan import plan_reply
    locker = hit("My locker number is 38.", 1)
    table = hit("We booked the table for tonight for 6 people.", 3)  # said between, not recalled for the question
    fix = hit("Actually it's 8.", 5)
    plan = plan_reply("What's my locker number?", [locker], recalled=[locker, fix], asker="Ana",
                      message=ask("What's my locker number?"))
    assert "8." not in (plan.answer or "") and table.message.text not in (plan.answer or "")


@pytest.mark.parametrize(("said", "question", "new", "old"), [
    (["My gym class is on Mondays at 6.", "Sorry, I meant Wednesdays at 6, not Mondays."], "When is my gym class?",
     "Wednesdays", "Mondays"),
    (["My niece Zara is 7.", "Wait, Zara just turned 8 actually."], "How old is Zara?", "8", "7"),  # not "before"
    (["I work at Deloitte as an auditor.", "Big news: I quit Deloitte, starting at KPMG on Monday."],
     "Where do I work?", "KPMG", "Deloitte"),
])
def test_corrections_said_without_a_subject_an_age_and_a_job_started(said, question, new, old):
    from bot.reply.plan import plan_reply
    hits = [hit(text, 2 * i + 1) for i, text in enumerate(said)]
    plan = plan_reply(question, hits, recalled=hits, asker="Ana", message=ask(question))
    shown = plan.answer or " ".join(h.message.text for h in (plan.shown or plan.memories))
    assert current_first(shown, new, old), shown
