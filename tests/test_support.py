"""Whether a memory can answer a question (bot/reply/support.py), and the reply when none recalled can."""

from __future__ import annotations

import pytest
from fake_llm import ScriptedLLM

from bot.config import AssistantConfig, RecallConfig
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.reply.plan import NOT_TOLD
from bot.reply.support import answers
from memory import Message


@pytest.mark.parametrize(("question", "memory"), [
    ("Where does my sister work?", "My brother Tom works as a nurse in Leeds."),
    ("What's my favourite film?", "My favourite band is Radiohead."),
    ("What's my cat called?", "My dog is called Rex."),
    ("What did I have for lunch?", "For breakfast I had eggs and toast."),
    ("What's my son's teacher called?", "My daughter's teacher is Ms Lee."),
    ("What do I have on Tuesday?", "Dentist on Thursday at 10."),
    ("How old is Tom?", "My brother Tom works as a nurse in Leeds."),
    ("When is the party?", "The party is at Ana's place."),
    ("What time does my train leave?", "My train leaves from the central station."),
])
def test_a_memory_that_cannot_answer(question, memory):
    assert not answers(question, memory)


@pytest.mark.parametrize(("question", "memory"), [
    ("Where does my sister work?", "Ana works at the bank."),  # may answer with "My sister is Ana"
    ("Where does my sis work?", "My sister Ana works at the bank."),
    ("What's my dog called?", "I adopted a puppy called Rex."),
    ("Is my brother older than my sister?", "My sister is 30."),
    ("What's my mum's name?", "My mother is called Ines."),
    ("How old is Tom?", "Tom was born in 1990."),
    ("How old is my daughter?", "My daughter turns seven in May."),
    ("When is Tom's birthday?", "Tom's birthday is on the 3rd of May."),
    ("When did I go to the dentist?", "I went to the dentist."),  # the day it was said answers it
    ("How many cats do I have?", "I have cats named Mochi and Pixel."),
    ("What's the wifi password?", "The wifi password at home is tulip77."),
    ("Where do my parents live?", "My mother and father live in Porto."),
    # a review's finds: times without digits, ranges of days, relations through another, names with kin words
    ("When is my flight?", "My flight is on Boxing Day."), ("When is my flight?", "My flight leaves in two weeks."),
    ("What time does my train leave?", "My train leaves at quarter to eight."),
    ("When is Ana's party?", "Ana's party moved to Thu."), ("When is the exam?", "The exam is on the twenty-first."),
    ("Do I work on Wednesday?", "I work Monday to Friday."),
    ("What is my sister's son called?", "My nephew is called Leo."),
    ("What is my brother-in-law called?", "My sister's husband is Tom."),
    ("What sport does my son play?", "My son is in the school football team."),
    ("What food does my dog like?", "My dog loves fruit."),
    ("Where is my sister going?", "Ana is going to Gran Canaria."),
    ("Comment s'appelle son chien ?", "Le chien de Papa s'appelle Rex."),  # another language: not checked
])
def test_a_memory_that_may_answer(question, memory):
    assert answers(question, memory)


def test_the_memory_that_answers_is_chosen_before_the_one_sharing_more_words(memory):
    from bot.reply.plan import plan_reply
    from memory import Hit

    brother = Hit(Message(1, 1, "My brother's birthday party is on Friday.", sender_name="Zoe"), 1.0)
    sister = Hit(Message(1, 2, "My sister Ana celebrates her birthday on the 5th.", sender_name="Zoe"), 0.9)
    plan = plan_reply("When is my sister's birthday party?", [brother, sister], asker="Zoe")
    assert plan.answer is None and [h.message.message_id for h in plan.memories] == [2]


async def make(memory) -> tuple[Assistant, ScriptedLLM]:
    llm = ScriptedLLM("Your brother Tom works as a nurse in Leeds.")
    await llm.start()
    recall = RecallConfig(k=5, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    return Assistant(memory, llm, recall=recall, assistant=AssistantConfig(system_prompt="S"),
                     settings=GenerationSettings()), llm


@pytest.mark.parametrize("question", ["Where does my sister work?", "How old is Tom?", "What's my favourite film?"])
async def test_only_memories_that_cannot_answer_is_not_told_without_the_model(memory, question):
    assistant, llm = await make(memory)
    await memory.messages.remember(Message(1, 1, "My brother Tom works as a nurse in Leeds.", sender_name="Zoe"))
    await memory.messages.remember(Message(1, 2, "My favourite band is Radiohead.", sender_name="Zoe"))
    reply = await assistant.reply_text(Message(1, 3, question, sender_name="Zoe"))
    assert reply.text == NOT_TOLD and llm.calls == []


async def test_a_memory_that_answers_still_goes_to_the_model(memory):
    assistant, llm = await make(memory)
    await memory.messages.remember(Message(1, 1, "My brother Tom works as a nurse in Leeds.", sender_name="Zoe"))
    reply = await assistant.reply_text(Message(1, 2, "Where does my brother work?", sender_name="Zoe"))
    assert "Leeds" in reply.text and len(llm.calls) == 1
