"""Issue 24, item 2 (a first slice): the assistant's own words and earlier questions are not facts.

An acknowledgement is kept (history, export) but marked and left out of recall, /search, topics and citations; an
earlier question is never the evidence for an answer; "What is my name?" is about a name; a citation is shown
only when what a person said supports the answer. Scripted model, hash embedder.
"""

from __future__ import annotations

import re

from fake_llm import ScriptedLLM, echo_memories

from bot import text
from bot.commands import actions, views
from bot.config import AssistantConfig, RecallConfig, Statements
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.reply.citation import cited, supports
from bot.reply.intent import asks, said_by_a_person
from bot.reply.plan import NOT_TOLD, NOTED, relevant
from memory import HashEmbedder, Hit, Message, Store, db, migrations
from memory.models import ACKNOWLEDGEMENT

SISTER = "My sister Ana lives in Lisbon."
WHERE = "Where does my sister live?"


async def make(memory, reply="Your sister Ana lives in Lisbon.", **config) -> tuple[Assistant, ScriptedLLM]:
    llm = ScriptedLLM(reply)
    await llm.start()
    recall = RecallConfig(k=6, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    settings = {"system_prompt": "S", "statements": Statements.NOTE, **config}
    return Assistant(memory, llm, recall=recall, assistant=AssistantConfig(**settings),
                     settings=GenerationSettings()), llm


def prompt_memories(llm: ScriptedLLM, n: int = -1) -> list[str]:
    """The memory lines of the n-th prompt the model was given."""
    return [line for line in llm.prompts[n][-1]["content"].splitlines() if line.startswith("- ")]


def hit(text_: str, role="user", message_id=1, score=1.0, meta=None) -> Hit:
    return Hit(Message(1, message_id, text_, role=role, sender_name="Ana" if role == "user" else "Engram",
                       created_at=1_700_000_000.0, meta=meta), score)


# ----- A: an acknowledgement is kept, marked, and never evidence ------------------------------------------------
async def test_an_acknowledgement_is_kept_and_exported_but_never_recalled_searched_or_clustered(memory):
    assistant, _ = await make(memory)
    told = await assistant.reply_text(Message(1, 1, SISTER, sender_name="Zoe"))
    assert told.text == "Noted: your sister Ana lives in Lisbon." and told.kind == ACKNOWLEDGEMENT
    assert told.stored is not None and told.stored.meta == {"kind": ACKNOWLEDGEMENT}
    exported = await memory.messages.export(1)
    assert [m["text"] for m in exported] == [SISTER, told.text] and exported[1]["meta"]["kind"] == ACKNOWLEDGEMENT
    assert [h.message.text for h in await memory.messages.recall(1, "sister Ana Lisbon", 10)] == [SISTER]
    page = await actions.search(memory, 1, "sister lives in Lisbon")
    assert [h.message.text for h in page.hits] == [SISTER]
    corpus = await memory.messages.chat_corpus(1)
    assert corpus.texts == [SISTER] and (await memory.messages.window_state(1)).count == 1
    ids, _ = await memory.messages.chat_vectors(1)
    assert ids.tolist() == [told.messages[0].rowid]


async def test_a_models_reply_is_kept_unmarked_and_a_question_is_never_acknowledged(memory):
    assistant, _ = await make(memory, reply="Paris.")
    asked = await assistant.reply_text(Message(1, 1, "What is the capital of France?", sender_name="Zoe"))
    assert asked.text == "Paris." and asked.kind is None and asked.stored.meta is None
    for question in (WHERE, "Do you know my name?", "what's my name"):
        reply = await assistant.reply_text(Message(1, await assistant.next_message_id(1), question))
        assert not reply.text.startswith("Noted") and reply.kind is None


async def test_the_same_question_twice_gets_the_same_answer_citing_what_the_person_said(memory):
    assistant, llm = await make(memory, reply=echo_memories, max_sentences=0)
    await assistant.reply_text(Message(1, 1, SISTER, sender_name="Zoe"))
    first = await assistant.reply_text(Message(1, 3, WHERE, sender_name="Zoe"))
    second = await assistant.reply_text(Message(1, 5, WHERE, sender_name="Zoe"))
    third = await assistant.reply_text(Message(1, 7, "Where does my sister live", sender_name="Zoe"))
    assert first.text == second.text  # nothing of the first answer, nor of the first question, became a fact
    for reply, n in ((first, 0), (second, 1), (third, 2)):
        shown = prompt_memories(llm, n)
        assert len(shown) == 1 and SISTER in shown[0]  # the person's words only: no echo, no earlier question
        assert reply.citation is not None and reply.citation.message.message_id == 1
        assert [h.message.text for h in reply.recalled] == [SISTER]


async def test_a_reply_saying_a_fact_back_never_hides_what_the_person_said(memory):
    """Recall drops near-duplicates; of a person's words and the assistant's reply repeating them, the person's
    stay, even when the reply ranks higher (it sits next to the question it answered)."""
    await memory.messages.remember_many([
        Message(1, 1, SISTER, sender_name="Zoe", created_at=1000),
        Message(1, 2, WHERE, sender_name="Zoe", created_at=5000),
        Message(1, 3, SISTER, role="assistant", sender_name="Engram", created_at=5001)])
    found = await memory.messages.recall(1, WHERE, 5)
    assert [(h.message.message_id, h.message.role) for h in found if h.message.text == SISTER] == [(1, "user")]


async def test_an_earlier_question_is_neither_shown_as_a_fact_nor_cited(memory):
    assistant, llm = await make(memory, reply="The answer is: Leo is 7 years old.")
    await assistant.remember(Message(1, 1, "How old is Leo?", sender_name="Ana"))
    reply = await assistant.reply_text(Message(1, 2, "Can you tell me how old Leo is?", sender_name="Bo"))
    assert reply.recalled == [] and reply.citation is None
    assert len(llm.calls) == 1 and prompt_memories(llm) == []  # the model answers without "memories"


async def test_search_and_why_put_what_people_told_above_questions_and_replies(memory):
    stored = await memory.messages.remember_many([
        Message(1, 1, "Where are the cello lessons now?", sender_name="Ana", created_at=1000),
        Message(1, 2, "The cello lessons are on Tuesdays, I think.", role="assistant", sender_name="Engram",
                created_at=1001),
        Message(1, 3, "Correction: the cello lessons moved to Wednesdays.", sender_name="Bo", created_at=5000),
        Message(1, 4, "When are the cello lessons?", sender_name="Ana", created_at=9000),
    ])
    page = await actions.search(memory, 1, "cello lessons")
    assert page.hits[0].message.text.startswith("Correction")
    assert [h.score for h in page.hits] == sorted((h.score for h in page.hits), reverse=True)
    shown = views.search_text(page, text.PLAIN)
    scores = [float(s) for s in re.findall(r"· score (\d+\.\d\d)", shown)]
    assert scores == sorted(scores, reverse=True) and "counts half" in shown
    raw = {h.message.message_id: h.score for h in await memory.messages.search(1, "cello lessons", 10)}
    weighed = {h.message.message_id: h.score for h in actions.people_first([Hit(m, raw[m.message_id])
                                                                            for m in stored if m.message_id in raw])}
    assert weighed[3] == raw[3] and weighed[4] == raw[4] * actions.NOT_TOLD_WEIGHT  # the shown score orders
    assert weighed[2] == raw[2] * actions.NOT_TOLD_WEIGHT


# ----- C: "What is my name?" --------------------------------------------------------------------------------------
async def test_what_is_my_name_is_answered_from_what_was_told(memory):
    assistant, llm = await make(memory, reply="Your name is Zoe.")
    await assistant.reply_text(Message(1, 1, "My name is Zoe.", sender_name="Zoe"))
    await assistant.remember(Message(1, 3, "My dog likes the park.", sender_name="Zoe"))
    for n, question in enumerate(("What is my name?", "What's my name?", "Do you know my name?", "What am I called?")):
        reply = await assistant.reply_text(Message(1, await assistant.next_message_id(1), question, sender_name="Zoe"))
        assert reply.text == "Your name is Zoe.", question
        assert [line.split(": ", 1)[1] for line in prompt_memories(llm, n)] == ['"My name is Zoe."']
        assert reply.citation is not None and reply.citation.message.text == "My name is Zoe."


async def test_never_told_a_name_is_still_not_told(memory):
    assistant, llm = await make(memory)
    await assistant.remember(Message(1, 1, "My dog likes the park.", sender_name="Zoe"))
    reply = await assistant.reply_text(Message(1, 2, "What is my name?", sender_name="Zoe"))
    assert reply.text == NOT_TOLD and llm.calls == []


def test_words_of_asking_still_say_nothing_when_a_question_has_a_subject():
    dog, said = hit("My dog is called Rex.", message_id=1), hit("I said hello to the neighbours.", message_id=2)
    name = hit("My name is Zoe.", message_id=3)
    assert relevant("tell me what I said my dog is called", [said, dog, name]) == [dog]
    assert relevant("do you remember what my brother does?", [said, dog, name]) == []
    assert relevant("What is my name?", [said, dog, name]) == [dog, name]  # "called" names a name too
    assert relevant("Do you know my name?", [said, name]) == [name]


# ----- D: a citation only when the memory supports the answer ----------------------------------------------------
def test_a_citation_needs_a_persons_words_that_support_the_answer():
    luck, novak = hit("Good luck with the cello!", message_id=1), hit("Dr. Ingrid Novak teaches cello.", message_id=2)
    question = "Who is the cello teacher?"
    assert cited("The cello teacher is Bob Jones.", [luck], question) is None  # shares only the question's words
    assert cited("The cello teacher is Dr. Ingrid Novak.", [luck, novak], question) is novak
    echo = hit("Noted: your sister Ana lives in Lisbon.", role="assistant", meta={"kind": ACKNOWLEDGEMENT})
    reply = hit("Your sister Ana lives in Lisbon.", role="assistant", message_id=3)
    asked = hit(WHERE, message_id=4)
    told = hit(SISTER, message_id=5)
    answer = "Your sister Ana lives in Lisbon."
    assert cited(answer, [echo, reply, asked], WHERE) is None
    assert cited(answer, [echo, reply, asked, told], WHERE) is told
    assert supports(told.message, "Yes, Ana lives in Lisbon.", "Does Ana live in Lisbon?")
    assert not supports(hit("Ana likes Lisbon.").message, "Yes, Ana lives in Lisbon.", "Does Ana live in Lisbon?")


def test_what_counts_as_a_persons_words():
    assert asks(WHERE) and asks("Hi! Where does Ana live?") and asks("do you know my name")
    assert not asks(SISTER) and not asks("I moved to Porto. Do you know it?") and not asks("Good luck!")
    assert said_by_a_person(hit(SISTER).message) and not said_by_a_person(hit(WHERE).message)
    assert not said_by_a_person(hit("Paris.", role="assistant").message)


# ----- the migration: acknowledgements stored by older versions -------------------------------------------------
def test_upgrading_marks_the_acknowledgements_older_versions_stored(tmp_path):
    path = tmp_path / "old.db"
    conn = db.connect(path)
    migrations.migrate(conn, migrations.MIGRATIONS[:6])  # the schema before acknowledgements were marked
    rows = [(1, "user", SISTER, None), (2, "assistant", "Noted: your sister Ana lives in Lisbon.", None),
            (3, "user", "You are a good bot", None), (4, "assistant", NOTED, '{"addressed": false}'),
            (5, "assistant", "Your sister Ana lives in Lisbon.", None), (6, "user", "Noted: the sister thing", None),
            (7, "assistant", "noted: lowercase is not ours", None)]
    conn.executemany("INSERT INTO messages (chat_id, message_id, sender_name, role, text, created_at, meta) "
                     "VALUES (1, ?, 'x', ?, ?, ?, ?)", [(i, role, t, 1000.0 + i, meta) for i, role, t, meta in rows])
    conn.close()
    store = Store.open(path, HashEmbedder(64))
    try:
        kinds = {m["message_id"]: (m["meta"] or {}).get("kind") for m in store.messages.export(1)}
        assert kinds == {1: None, 2: ACKNOWLEDGEMENT, 3: None, 4: ACKNOWLEDGEMENT, 5: None, 6: None, 7: None}
        assert store.messages.get(1, 4).meta == {"addressed": False, "kind": ACKNOWLEDGEMENT}
        found = {h.message.message_id for h in store.search.recall(1, "sister Ana lives in Lisbon", 10,
                                                                   method="keyword")}  # rows written raw: no vectors
        assert 2 not in found and 4 not in found and {1, 5} <= found
        assert len(store.messages.export(1)) == 7  # kept: nothing deleted
    finally:
        store.close()
