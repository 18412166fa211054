"""A value in an answer from memory is the memory's value (bot/reply/grounding.py): a number, a name or a code the
model copied wrongly ("30" for "300", "Pio" for "Pia", "123456" for "pinecone42") is set right as the reply streams;
what the model was given, a general fact, a word of its own, the first word of a sentence are left as written.
Pure tests, then through the assistant with a scripted model that makes the slips SmolLM2-135M made (real SQLite,
hash embedder; the real model's figures are eval-replies')."""

from __future__ import annotations

import pytest
from fake_llm import ScriptedLLM

from bot.config import AssistantConfig, RecallConfig, Statements
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.reply.grounding import Grounding
from memory import Message


def streamed(memories: list[str], reply: str, given: tuple[str, ...] = (), lang: str = "en", size: int = 3) -> str:
    """The reply fed in chunks of `size` characters, as a model streams it."""
    g = Grounding(memories, given, lang=lang)
    return "".join(g.feed(reply[i:i + size]) for i in range(0, len(reply), size)) + g.finish()


@pytest.mark.parametrize("memories, question, reply, fixed", [
    (["The trip budget is 300 euros each."], "what is the budget per person?",
     "The trip budget is 30 euros per person.", "The trip budget is 300 euros per person."),
    (["Pia will bring the football.", "And I'll bring the pump."], "who brings the football?",
     "The football is brought by Pio.", "The football is brought by Pia."),
    (["The wifi password at the cabin is pinecone42."], "What's the wifi password at the cabin?",
     "The wifi password is 123456.", "The wifi password is pinecone42."),
    (["The garage code is maple19."], "What is the garage code?", "The garage code is 19.",
     "The garage code is maple19."),
    (["My niece Lila studies in Utrecht."], "Where does my niece study?", "She studies in Utrecth, with Lilla.",
     "She studies in Utrecht, with Lila."),
    (["The report is due on Friday the 12th."], "When is the report due?", "It is due on Friday the 13th.",
     "It is due on Friday the 12th."),
])
def test_a_value_copied_wrongly_is_set_right_from_the_memory(memories, question, reply, fixed):
    for size in (1, 3, 50):
        assert streamed(memories, reply, (question,), size=size) == fixed


@pytest.mark.parametrize("memories, given, reply", [
    # what the model was given (the question, the prompt's date) and values that are the memory's
    (["My flight leaves at 7:40 on Tuesday."], ("When does my flight leave?", "Today is 6 December 2026."),
     "Your flight leaves at 7:40 on Tuesday, 6 December."),
    # a general fact the memories hold nothing near to
    (["My cousin lives in Leeds."], ("What is the capital of Germany?",), "The capital of Germany is Berlin."),
    # the first word of a sentence says nothing by its capital; a stopword is never a name
    (["I live in York."], ("Where do I live?",), "Your home is in York. Yes, York."),
    # two values equally near: which one is not known, so neither
    (["Bo brings 40 cups.", "Ana brings 42 plates."], ("What do they bring?",), "They bring 41 things."),
    # a number of its own, far from any of the memory's
    (["The meeting is in room 4B."], ("Where is the meeting?",), "The meeting is in room 4B, in 10 minutes."),
])
def test_what_is_given_or_far_from_any_memory_value_is_left_as_written(memories, given, reply):
    assert streamed(memories, reply, given) == reply


@pytest.mark.parametrize("memories, reply", [
    # worked out from the memories, not copied: a count, a sum, a time before an event, a year, a word
    (["Ana is 7 and Tom is 10."], "Tom is 3 years older than Ana."),
    (["The rent is 950 a month."], "That is 11400 a year."),
    (["My flight is at 14:30, gate 22."], "Be there by 12:30, 2 hours before."),
    (["My door code is 7391."], "You moved to Berlin in 2019."),
    (["Dan is coming on Saturday."], "On Saturday Dan comes, and Dad too."),
    (["We have 1 dog and 3 cats."], "So 4 pets in all, 1 dog."),
])
def test_a_value_worked_out_or_a_word_of_its_own_is_not_taken_for_a_slip(memories, reply):
    assert streamed(memories, reply) == reply


def test_names_are_read_in_english_only():
    """German capitalises every noun: a noun one letter off a memory's name is not taken for it."""
    memories = ["Meine Schwester wohnt in Hamburg."]
    assert streamed(memories, "Sie wohnt in Hamberg.", lang="de") == "Sie wohnt in Hamberg."
    assert streamed(memories, "She lives in Hamberg.", lang="en") == "She lives in Hamburg."


def test_what_was_set_right_is_kept_for_the_log():
    g = Grounding(["The trip budget is 300 euros each."])
    assert g.feed("It is 30 euros") + g.finish() == "It is 300 euros"
    assert g.fixed == [("30", "300")]


# ----- through the assistant ---------------------------------------------------------------------------------------
async def make(memory, reply) -> tuple[Assistant, ScriptedLLM]:
    llm = ScriptedLLM(reply, chunk=2)
    await llm.start()
    recall = RecallConfig(k=6, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    config = AssistantConfig(system_prompt="S", statements=Statements.NOTE)
    return Assistant(memory, llm, recall=recall, assistant=config, settings=GenerationSettings()), llm


async def test_a_group_answer_gives_the_memorys_number_and_name(memory):
    assistant, llm = await make(memory, ["The trip budget is 30 euros per person.", "The football is brought by Pio."])
    chat = -5
    said = [("Jo", "The trip budget is 300 euros each."), ("Oli", "Pia will bring the football."),
            ("Kim", "Flights are booked.")]
    for n, (who, text) in enumerate(said, start=1):
        await assistant.remember(Message(chat, n, text, sender_id=100 + n, sender_name=who))
    budget = await assistant.reply_text(Message(chat, 10, "@bot what is the budget per person?", sender_id=200,
                                                sender_name="Ned"))
    assert budget.text == "The trip budget is 300 euros per person."
    ball = await assistant.reply_text(Message(chat, 12, "@bot who brings the football?", sender_id=200,
                                              sender_name="Ned"))
    assert ball.text == "The football is brought by Pia."
    assert len(llm.calls) == 2  # the model wrote both; only its slips were set right


async def test_an_answer_with_no_memory_shown_is_the_models(memory):
    assistant, _ = await make(memory, "The star at the centre is the Sun, 150 million km away.")
    await assistant.remember(Message(1, 1, "My dog is called Rex.", sender_id=7, sender_name="Ana"))
    reply = await assistant.reply_text(Message(1, 2, "What is the star at the centre of our solar system?",
                                               sender_id=7, sender_name="Ana"))
    assert reply.text == "The star at the centre is the Sun, 150 million km away."


async def test_a_suggestion_is_not_held_to_the_memorys_values(memory):
    """A request for an idea names things of its own: "Italian" is not taken for the asker's "Italy"."""
    assistant, _ = await make(memory, "Try an Italian lentil soup with 2 carrots.")
    await assistant.remember(Message(1, 1, "I love Italy and I'm vegetarian, 3 years now.", sender_id=7,
                                     sender_name="Ana"))
    reply = await assistant.reply_text(Message(1, 2, "Can you suggest a dinner I could cook?", sender_id=7,
                                               sender_name="Ana"))
    assert reply.text == "Try an Italian lentil soup with 2 carrots."
