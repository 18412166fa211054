"""Whose was it: a question about a person of the chat checked against who said what (bot/reply/attribution.py)."""

from __future__ import annotations

from bot.reply.attribution import ELSEWHERE, NOT_RECALLED, attribute, named_person, speaks_of
from memory import Hit, Message


def said(sender: str, text: str, message_id: int = 1) -> Hit:
    return Hit(Message(-1, message_id, text, sender_name=sender, created_at=1_700_000_000.0), 1.0)


RACE = said("Melanie", "I ran a charity race last week and realised self-care is really important.", 1)
ADOPT = said("Caroline", "I'm researching adoption agencies, it's a big step!", 2)
HELLO = said("Melanie", "Hey Caroline! How's the adoption going?", 3)


def test_a_question_names_one_person_of_the_chat():
    people = {"Caroline", "Melanie"}
    assert named_person("What did Melanie's kids paint?", people) == "Melanie"
    assert named_person("When did Caroline and Melanie meet?", people) is None
    assert named_person("What is the capital of France?", people) is None


def test_a_name_that_only_addresses_someone_is_not_about_them():
    assert not speaks_of("Hey Caroline! How's the adoption going?", "Caroline")
    assert not speaks_of("That's great news, Caroline!", "Caroline")
    assert speaks_of("Caroline is bringing the cake.", "Caroline")
    assert speaks_of("I went hiking with Caroline yesterday.", "Caroline")


def test_what_someone_else_said_is_attributed_to_them():
    whose = attribute("What did Caroline realize after her charity race?", [ADOPT, RACE, HELLO])
    assert whose is not None and whose.answer == ELSEWHERE.format(other="Melanie", named="Caroline")
    assert whose.memories == [RACE]


def test_the_persons_own_words_go_to_the_model():
    assert attribute("What did Melanie realize after her charity race?", [ADOPT, RACE, HELLO]) is None
    # someone else's words about the person count as about them
    cake = said("Bo", "Caroline is bringing the cake on Saturday.", 4)
    assert attribute("What is Caroline bringing?", [cake, RACE]) is None
    # a question naming nobody of the chat is not checked
    assert attribute("What did Ana realize after the race?", [ADOPT, RACE]) is None


def test_nothing_about_the_topic_recalled_is_not_known():
    whose = attribute("What is Caroline's favourite colour?", [ADOPT, RACE, HELLO])
    assert whose is not None and whose.answer == NOT_RECALLED and whose.memories == []


async def test_the_assistant_answers_a_misattributed_question_without_the_model_and_cites_the_memory(memory):
    from fake_llm import ScriptedLLM

    from bot.config import AssistantConfig, RecallConfig
    from bot.llm.base import GenerationSettings
    from bot.reply.assistant import Assistant

    llm = ScriptedLLM("Caroline realised self-care is important.")
    await llm.start()
    recall = RecallConfig(k=3, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    assistant = Assistant(memory, llm, recall=recall, assistant=AssistantConfig(system_prompt="S"),
                          settings=GenerationSettings())
    await assistant.remember(Message(-5, 1, RACE.message.text, sender_id=2, sender_name="Melanie"))
    await assistant.remember(Message(-5, 2, ADOPT.message.text, sender_id=3, sender_name="Caroline"))
    reply = await assistant.reply_text(Message(-5, 3, "What did Caroline realize after her charity race?",
                                               sender_id=4, sender_name="Ana"))
    assert reply.text == ELSEWHERE.format(other="Melanie", named="Caroline") and llm.calls == []
    assert reply.citation is not None and reply.citation.message.message_id == 1


def test_who_does_it_is_whoever_said_they_would():
    from bot.reply.attribution import volunteered

    bake = said("Noor", "Sure, I'll bake the birthday cake on Friday.", 4)
    other = said("Ilse", "Friday works for me too.", 5)
    assert volunteered("Who's baking the birthday cake?", [bake, other]) is bake
    assert volunteered("Who is baking on Sunday?", [bake]) is None  # half the topic (Sunday) not said
    assert volunteered("When is the cake baked?", [bake]) is None  # not a "who" question
    assert volunteered("Who bakes the cake?", [bake, said("Ilse", "I bake the cake too!", 6)]) is None  # two people
    assert volunteered("Who's baking the cake?", [said("Ilse", "I think Noor bakes the cake.", 7)]) is None


async def test_the_assistant_says_who_said_they_would_without_the_model(memory):
    from fake_llm import ScriptedLLM

    from bot.config import AssistantConfig, RecallConfig
    from bot.llm.base import GenerationSettings
    from bot.reply.assistant import Assistant

    llm = ScriptedLLM("I'm not sure what to do with that.")  # what SmolLM2-135M answered
    await llm.start()
    recall = RecallConfig(k=3, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    assistant = Assistant(memory, llm, recall=recall, assistant=AssistantConfig(system_prompt="S"),
                          settings=GenerationSettings())
    await assistant.remember(Message(-6, 1, "I can pick up the keys on Monday, no problem.", sender_id=2,
                                     sender_name="Tomas"))
    await assistant.remember(Message(-6, 2, "Great, thanks!", sender_id=3, sender_name="Rhea"))
    reply = await assistant.reply_text(Message(-6, 3, "@bot who's picking up the keys on Monday?", sender_id=3,
                                               sender_name="Rhea"))
    assert reply.text == "Tomas said: “I can pick up the keys on Monday, no problem.”" and llm.calls == []
    assert reply.citation is not None and reply.citation.message.message_id == 1


def test_an_offer_taken_back_or_hedged_answers_no_who_question():
    from bot.reply.attribution import volunteered
    offer = Hit(Message(-5, 1, "I can drive on Saturday, I've got room for three.", sender_name="Mateo Diaz",
                        sender_id=3, created_at=1000.0), 1.0)
    back = Hit(Message(-5, 9, "Sorry guys, my car broke down, so no driving on Saturday for me.",
                       sender_name="Mateo Diaz", sender_id=3, created_at=4600.0), 1.0)
    assert volunteered("Who's driving on Saturday?", [offer]) is offer
    assert volunteered("Who's driving on Saturday?", [offer, back]) is None
    hedged = Hit(Message(-5, 2, "I would drive on Saturday but my car is in the shop.", sender_name="Bo"), 1.0)
    assert volunteered("Who's driving on Saturday?", [hedged]) is None
