"""A reply in the chat's language: the model is told which language to answer in; where it cannot write that
language (llm.languages), an answer from memory quotes the memory instead of a mixed-language sentence; the
fixed answers are translated. The assistant with a scripted LLM and the hash embedder."""

from __future__ import annotations

from fake_llm import ScriptedLLM

from bot.config import AssistantConfig, RecallConfig
from bot.i18n import using
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.reply.prompt import build_prompt
from memory import Hit, Message


def words(messages) -> int:
    return sum(len(m["content"].split()) + 4 for m in messages)


def make(memory, llm, languages=("en",)) -> Assistant:
    return Assistant(memory, llm, recall=RecallConfig(k=3, min_score=0.0, min_relative_score=0.0),
                     assistant=AssistantConfig(system_prompt="You are a test."), settings=GenerationSettings(),
                     model_languages=languages)


def test_the_model_is_told_the_chats_language_after_the_fixed_prefix():
    message = Message(1, 9, "¿Dónde vive mi hermana?", sender_name="Ana")
    hit = Hit(Message(1, 1, "Mi hermana Lucía vive en Valencia.", sender_name="Ana", created_at=1e9), 1.0)
    spanish = build_prompt("S", [hit], [], message, words, 1000, now=1e9, language="es").messages[0]["content"]
    english = build_prompt("S", [hit], [], message, words, 1000, now=1e9).messages[0]["content"]
    assert spanish == english + "\nAnswer in Spanish." and spanish.startswith("S\nToday is ")
    persian = build_prompt("S", [], [], message, words, 1000, language="fa").messages[0]["content"]
    assert persian.endswith("Answer in Persian.")


async def test_a_model_that_cannot_write_the_language_is_replaced_by_the_memory_quoted(memory):
    llm = ScriptedLLM("The hermana is in Valencia.")  # what the 135M model answered
    await llm.start()
    assistant = make(memory, llm)
    await assistant.remember(Message(1, 1, "Mi hermana Lucía vive en Valencia.", sender_name="Ana", created_at=1e9))
    with using("es"):
        reply = await assistant.reply_text(Message(1, 2, "¿Dónde vive mi hermana Lucía?", sender_name="Ana",
                                                   created_at=1e9 + 60))
    assert reply.text == "Me dijiste: «Mi hermana Lucía vive en Valencia.»" and llm.calls == []
    assert reply.citation is not None and reply.citation.message.message_id == 1


async def test_a_model_that_writes_the_language_answers_and_is_told_which(memory):
    llm = ScriptedLLM("Lucía vive en Valencia.")
    await llm.start()
    assistant = make(memory, llm, languages=("any",))
    await assistant.remember(Message(1, 1, "Mi hermana Lucía vive en Valencia.", sender_name="Ana", created_at=1e9))
    with using("es"):
        reply = await assistant.reply_text(Message(1, 2, "¿Dónde vive mi hermana Lucía?", sender_name="Ana",
                                                   created_at=1e9 + 60))
    assert reply.text == "Lucía vive en Valencia."
    assert llm.calls[0][0][0]["content"].endswith("\nAnswer in Spanish.")


async def test_fixed_answers_are_in_the_chats_language(memory):
    llm = ScriptedLLM("unused")
    await llm.start()
    assistant = make(memory, llm)
    with using("de"):
        told = await assistant.reply_text(Message(1, 1, "Mein Auto ist ein roter Golf.", sender_name="Ana"))
    assert told.text == "Notiert: „Mein Auto ist ein roter Golf“."
    with using("pt"):
        thanks = await assistant.reply_text(Message(2, 1, "Thanks!", sender_name="Ana"))
    assert thanks.text == "De nada!" and llm.calls == []
