"""A note as the model is shown it: the part of a memory that speaks of the question (bot/reply/focus.py)."""

from __future__ import annotations

import pytest
from fake_llm import ScriptedLLM

from bot.config import AssistantConfig, RecallConfig
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.reply.focus import focus
from memory import Message


@pytest.mark.parametrize("said, question, shown", [
    # chatter before the fact, a detail after it: left out
    ("Went to the clinic today, btw my cholesterol is 5.2 now.", "What's my cholesterol?",
     "My cholesterol is 5.2 now."),
    ("The quiz night is at the Crown this Friday, bring a pen.", "Where is the quiz night?",
     "The quiz night is at the Crown this Friday."),
    # what names something stays; a clause that leans on the one before keeps it
    ("I bought a new bike, a red Bianchi.", "What bike did I buy?", "I bought a new bike, a red Bianchi."),
    ("The vet put Rex on insulin, so he gets it twice a day.", "How often does Rex get it?",
     "The vet put Rex on insulin, so he gets it twice a day."),
    # short, one clause, or nothing shared: as said
    ("My PIN is 4411.", "What is my PIN?", "My PIN is 4411."),
    ("Lovely weather today, the garden looks great.", "What is the capital of Peru?",
     "Lovely weather today, the garden looks great."),
])
def test_a_note_is_the_part_that_speaks_of_the_question(said, question, shown):
    assert focus(said, question) == shown


async def test_the_model_is_shown_the_fact_and_the_citation_quotes_the_message(memory):
    said = "Long day at work, anyway the locker code is 3390, don't tell anyone."
    llm = ScriptedLLM("Your locker code is 3390.")
    await llm.start()
    recall = RecallConfig(k=3, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    assistant = Assistant(memory, llm, recall=recall, assistant=AssistantConfig(system_prompt="S"),
                          settings=GenerationSettings())
    await assistant.remember(Message(1, 1, said, sender_id=2, sender_name="Ada"))
    reply = await assistant.reply_text(Message(1, 2, "What is the locker code?", sender_id=2, sender_name="Ada"))
    prompt = llm.prompts[0][-1]["content"]
    assert "The locker code is 3390" in prompt and "Long day" not in prompt and "tell anyone" not in prompt
    assert reply.citation is not None and reply.citation.message.text == said


@pytest.mark.parametrize(("note", "question", "kept"), [
    ("Dentist appointment on Tuesday at 3pm with Dr Lee, but that got cancelled.", "When is my dentist appointment?",
     "cancelled"),
    ("The team dinner is on Friday at 7 at the Red Lion, cancelled now unfortunately.", "When is the team dinner?",
     "cancelled"),
    ("My flight to Lisbon leaves at 7:40 tomorrow morning, or at least it did, it's been pushed back three hours.",
     "When does my flight to Lisbon leave?", "pushed back"),
])
def test_a_clause_undoing_the_fact_is_kept_with_it(note, question, kept):
    assert kept in focus(note, question)
