"""Issue 24, items 3 and 6: plain-language actions, one implementation for every front end, and plans offered as
reminders. The terminal chat in-process and the real Telegram Application against the fake Bot API, on the same
layer (bot/commands/requests.py); a scripted model and the hash embedder (tests/test_actions_real.py: real ones)."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime, timedelta, timezone

import pytest
from fake_llm import ScriptedLLM, echo_memories
from fake_telegram import FakeTelegram
from telegram_helpers import bot_config, bot_running, button, command, converse

from bot.cli.chat import Terminal
from bot.commands import actions
from bot.config import AssistantConfig, Config, RecallConfig, Statements
from bot.llm.base import GenerationSettings
from bot.reminders.plans import find_plan
from bot.reply.assistant import Assistant
from bot.reply.intent import Intent
from bot.reply.plan import plan_reply
from bot.reply.requests import Action, read_request
from memory import HashEmbedder, Message
from memory.models import ACTION

pytestmark = pytest.mark.timeout(90)

ALICE = 1001
CHAT = 0
BREAD = "Remind me in 2 minutes to take the bread out of the oven."
WIFI = "The wifi password at home is tulip77."
FORGET = "Please forget the wifi password I told you."
ASK_WIFI = "What is the wifi password at home?"
DENTIST = "I have a dentist appointment on Tuesday at 10."

ACTIONS = [
    (BREAD, Action.REMIND), ("every Monday at 8 remind me to water the plants", Action.REMIND),
    ("Can you remind me tomorrow at 9 to call Ana?", Action.REMIND), ("set a reminder for 5pm to take the pills",
                                                                     Action.REMIND),
    ("cancel the bread reminder", Action.CANCEL), ("Stop reminding me about the bread", Action.CANCEL),
    ("What reminders do I have?", Action.LIST), ("show my reminders", Action.LIST), ("any reminders?", Action.LIST),
    (FORGET, Action.FORGET), ("forget what I said about the wifi password", Action.FORGET),
    ("delete my address", Action.FORGET), ("Could you erase my phone number please?", Action.FORGET),
    ("remove my email from your memory", Action.FORGET), ("yes, remind me", Action.ACCEPT),
]
NOT_ACTIONS = [
    "What did you remind me about?", "Did I tell you to forget the password?", "I forgot my keys",
    "Don't forget the milk", "Forget it.", "forget about it, I'll do it myself", "remind me what my dog is called",
    "Remind me, what's my sister's name?", "What reminders did you send me yesterday?", "My reminder app is broken",
    "Remove the batteries before washing", "At lunch you said remind me to call", "I keep forgetting my password",
    "The reminder said to call Ana", "Delete key is broken on my laptop, it sticks",
    "Ana pinged me yesterday about the party", "my phone will notify me", "help me remember where I parked",
    "I need a reminder of how awful that was", "Don't let me forget what you said", "remind me about what the vet said",
    "You never remind me", "I called the vet yesterday at 4, remind me?", "Remember the party? remind me",
    "remind me of the kids' school name", "remind me about my sister's address",
    # read as actions by a first version of the words above (a review's finds)
    "I don't remember my wifi password", "I don't remember Ana's birthday", "I don't keep secrets",
    "I don't want you to keep reminding me", "No need to remember, it's fine", "You don't need to remember everything",
    "No need for a reminder", "Never mind the reminder, I already took them", "We don't need the reminder anymore",
    "You can delete messages in Telegram by long-pressing them", "You can turn off reminders in the app settings",
    "You may forget things when you're tired", "Could you ping me the address tomorrow?",
    "Ping me on WhatsApp tomorrow",
    "ping me tomorrow if anything changes", "Alert me at 5 if the stock drops", "Ping me later",
    "Can you ping me when you're free tomorrow?",
]
# The other ways people ask for a reminder: (what they say, the reminder's text, its clock time in UTC).
OTHER_WORDS = [
    ("ping me in 20 minutes about the laundry", "the laundry", None),
    ("don't let me forget to call the bank tomorrow at 10", "call the bank", "10:00"),
    ("I need a reminder to take my pills at 9pm", "take my pills", "21:00"),
    ("I'd like a reminder to stretch every day at 10", "stretch", None),
    ("Please set me a reminder for 7am: gym", "gym", "07:00"),
    ("make sure I remember to call mum at 6pm", "call mum", "18:00"),
    ("could you nudge me on friday at noon to water the plants", "water the plants", "12:00"),
    ("Could you set up a weekly reminder on Sundays to call grandma?", "call grandma", "09:00"),
    ("remind me at lunchtime to call the plumber", "call the plumber", "12:00"),
    ("I have to call the vet at 4pm, remind me", "call the vet", "16:00"),
    ("remind me to feed the cat at 6pm", "feed the cat", "18:00"),
    ("remind me every other day to water the cactus", "water the cactus", None),
]


# ----- reading ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "kind"), ACTIONS)
def test_an_action_is_read_as_one(text, kind):
    found = read_request(text)
    assert found is not None and found.kind is kind, text


@pytest.mark.parametrize("text", NOT_ACTIONS)
def test_a_question_about_the_past_or_a_statement_is_not_an_action(text):
    assert read_request(text) is None, text


def test_what_a_forget_is_about():
    assert read_request(FORGET).topic == "wifi password"
    assert read_request("forget what I said about the wifi password").topic == "wifi password"
    assert read_request("delete my address").topic == "address"
    assert read_request("forget everything").topic == "all"
    assert read_request("cancel the bread reminder").topic == "bread"


@pytest.mark.parametrize(("text", "kind", "topic"), [
    # a comment after a comma or "because" is not part of what to cancel or forget
    ("actually please forget my PIN, I shouldn't have typed that here", Action.FORGET, "PIN"),
    ("forget the wifi password, thanks", Action.FORGET, "wifi password"),
    ("cancel the bread reminder because I already did it", Action.CANCEL, "bread"),
    # a reminder named without the word "reminder"
    ("actually cancel the one about the bins, I'll do it tonight", Action.CANCEL, "bins"),
    ("cancel the dentist one", Action.CANCEL, "dentist"),
    ("delete the ones about the dentist", Action.CANCEL, "dentist"),
])
def test_an_action_with_an_aside_or_a_reminder_named_by_its_subject(text, kind, topic):
    found = read_request(text)
    assert found is not None and (found.kind, found.topic) == (kind, topic)


@pytest.mark.parametrize("text", [
    "cancel my gym membership", "cancel the meeting, we moved it", "forget the Lisbon trip, the hotel and the flights",
    "forget it, I'll do it",
    # "Forget X, <comment>" is "never mind X", not "delete X from memory"
    "Forget the milk, we have enough", "Forget the party, it's cancelled", "Forget my keys, I found them",
    "Forget Paris, we're going to Rome instead", "Forget the meeting, thanks for reminding me though",
    # "the … one(s)" inside a note is no reminder
    "Remove the small ones from the oven after 10 minutes", "Clear the old ones out of the garage this weekend",
    "Stop the little one from crying", "Clear the table one more time", "Drop the blue one at Ana's on Friday",
    # other languages: a verb that also means "wipe" or "turn off", a negation, a comment after a comma
    "Vergiss den Regenschirm nicht", "Apaga a luz da sala quando saíres", "Lösche das Licht im Flur",
    "Borra la pizarra antes de la clase", "Elimina el azúcar de tu dieta", "Сотри пыль с полки в гостиной",
    "Удали старые фото с телефона на выходных", "Olvida el paraguas, no llueve", "Забудь про зонтик, дождя не будет",
])
def test_what_is_not_read_as_a_reminder_or_a_clear_topic_stays_unread(text):
    assert read_request(text) is None


# ----- the Assistant never acknowledges an action as a statement; no reply is ever empty ---------------------------
async def make_assistant(memory, reply) -> Assistant:
    llm = ScriptedLLM(reply)
    await llm.start()
    recall = RecallConfig(k=6, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    return Assistant(memory, llm, recall=recall, assistant=AssistantConfig(system_prompt="S",
                                                                          statements=Statements.NOTE),
                     settings=GenerationSettings())


@pytest.mark.parametrize(("text", "kind"), ACTIONS)
def test_the_plan_marks_an_action_and_says_how_never_noted(text, kind):
    plan = plan_reply(text, [])
    assert plan.intent is Intent.ACTION and plan.answer and not plan.answer.startswith("Noted")
    assert "/" in plan.answer  # the command that does it


async def test_an_action_handed_to_the_assistant_gets_how_to_and_is_no_fact(memory):
    assistant = await make_assistant(memory, "never used")
    reply = await assistant.reply_text(Message(1, 1, BREAD, sender_name="Zoe"))
    assert reply.text.startswith("To set a reminder, use /remind") and reply.kind == ACTION
    assert assistant.llm.calls == []


async def test_a_reply_the_filters_empty_says_what_memory_has(memory):
    assistant = await make_assistant(memory, "What is my dog's name?")  # the question said back: filtered away
    await memory.messages.remember(Message(1, 1, "My dog is called Rex.", sender_name="Zoe"))
    reply = await assistant.reply_text(Message(1, 2, "What is my dog's name?", sender_name="Zoe"))
    assert reply.text == "Here is what I have: “My dog is called Rex.”"
    assistant.llm.reply = ["What is the capital of the moon?"]
    nothing = await assistant.reply_text(Message(2, 1, "What is the capital of the moon?", sender_name="Zoe"))
    assert nothing.text == "I don't know."  # never empty: memory has nothing


# ----- the terminal chat ----------------------------------------------------------------------------------------
@pytest.fixture
async def terminal(tmp_path, memory):
    config = Config(base_dir=tmp_path)
    config.reminders.min_interval_seconds = 1
    terminal = Terminal(config, CHAT, "Zoe", out=io.StringIO())
    terminal.assistant = await make_assistant(memory, echo_memories)
    await terminal.start_reminders(memory, sweep_seconds=0)
    yield terminal
    await terminal.stop_reminders()


def printed(terminal: Terminal) -> str:
    assert isinstance(terminal.out, io.StringIO)
    return terminal.out.getvalue()


def answering(terminal: Terminal, *lines: str) -> None:
    """What the person types at the next prompts (y/n questions)."""
    typed = list(lines)

    async def ask(prompt: str) -> str | None:
        terminal.say(prompt, end="")
        return typed.pop(0) if typed else None

    terminal.ask = ask  # type: ignore[method-assign]


async def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_terminal_a_plain_reminder_is_set_and_delivered_once(terminal, memory):
    assert await terminal.action(BREAD)
    pending = await memory.reminders.pending(CHAT)
    assert [r.text for r in pending] == ["take the bread out of the oven"]
    assert 110 <= pending[0].due_at - time.time() <= 121
    assert "engram> ⏰ OK, I will remind you on " in printed(terminal)
    assert await terminal.action("Remind me in 2 seconds to take the cake out.")
    await until(lambda: "⏰ take the cake out\n" in printed(terminal))
    await asyncio.sleep(1.5)
    assert printed(terminal).count("⏰ take the cake out\n") == 1
    assert await terminal.action("what reminders do I have?")
    assert "take the bread out of the oven" in printed(terminal).rsplit("engram> ", 1)[1]
    assert await terminal.action("cancel the bread reminder")
    assert "Cancelled #1: take the bread out of the oven" in printed(terminal)
    assert await memory.reminders.pending(CHAT) == []
    assert await terminal.action("cancel the bread reminder")
    assert printed(terminal).rstrip().endswith("No pending reminders. Set one with /remind <when> <what>.")


@pytest.mark.parametrize(("text", "what", "when"), OTHER_WORDS)
async def test_terminal_other_words_for_remind_me_set_a_reminder(terminal, memory, text, what, when):
    assert read_request(text).kind is Action.REMIND
    assert await terminal.action(text)
    pending = await memory.reminders.pending(CHAT)
    assert [r.text for r in pending] == [what], printed(terminal)
    if when is not None:
        assert time.time() < pending[0].due_at < time.time() + 8 * 86400
        assert datetime.fromtimestamp(pending[0].due_at, tz=timezone.utc).strftime("%H:%M") == when
    assert "Noted" not in printed(terminal)


async def test_terminal_what_cannot_be_done_says_so_and_how(terminal):
    assert await terminal.action("remind me to call Ana")
    assert "I couldn't tell when to remind you" in printed(terminal) and "/remind" in printed(terminal)
    assert await terminal.action("forget what I said about the submarine")
    assert "Nothing in this chat's memory mentions “submarine”" in printed(terminal)
    assert "/forget <words>" in printed(terminal)


async def test_terminal_forget_asks_then_removes_and_the_password_is_not_answered(terminal, memory):
    await terminal.reply(WIFI)
    assert "Noted: The wifi password at home is tulip77." in printed(terminal)
    answering(terminal, "y")
    assert await terminal.action(FORGET)
    out = printed(terminal)
    assert "Forget these 2 messages?" in out and "tulip77" in out.split("Forget these", 1)[1]  # what would go
    assert "[y/N]" in out and "Forgotten" in out
    await terminal.reply(ASK_WIFI)
    answer = printed(terminal).rsplit("engram> ", 1)[1]
    assert "tulip77" not in answer
    assert not any("tulip77" in m["text"] for m in await memory.messages.export(CHAT))  # nor in export
    assert [h for h in await memory.messages.recall(CHAT, "wifi password tulip77", 10)
            if "tulip77" in h.message.text] == []
    assert "tulip77" not in str(terminal.assistant.llm.prompts[-1])
    page = await actions.search(memory, CHAT, "wifi password tulip77")
    assert not any("tulip77" in h.message.text for h in page.hits)  # nor in /search


async def test_terminal_forget_kept_when_not_confirmed(terminal, memory):
    await terminal.reply(WIFI)
    answering(terminal, "n")
    assert await terminal.action("forget the wifi password")
    assert any("tulip77" in m["text"] for m in await memory.messages.export(CHAT))


@pytest.mark.parametrize("request_said", ["forget what I just said", "please delete my last message",
                                          "erase the last thing I told you"])
async def test_terminal_forget_what_i_just_said_takes_only_that_message(terminal, memory, request_said):
    await terminal.reply("My sister Ana lives in Lisbon.")
    await terminal.reply(WIFI)
    answering(terminal, "y")
    assert await terminal.action(request_said)
    out = printed(terminal).split("Forget these", 1)[1]
    assert "tulip77" in out and "Lisbon" not in out
    left = [m["text"] for m in await memory.messages.export(CHAT)]
    assert not any("tulip77" in t for t in left) and any("Lisbon" in t for t in left)


@pytest.mark.parametrize(("said", "kind", "topic"), [
    ("never mind the laundry reminder", Action.CANCEL, "laundry"),
    ("I don't need the dentist reminder anymore", Action.CANCEL, "dentist"),
    ("could you cancel the reminder about the bank", Action.CANCEL, "bank"),
    ("scratch the reminder for the plants", Action.CANCEL, "plants"),
    ("what's on my reminder list?", Action.LIST, ""),
    ("what have I asked you to remind me about?", Action.LIST, ""),
    ("can you forget that I told you about the surgery", Action.FORGET, "surgery"),
    ("please don't remember my phone number", Action.FORGET, "phone number"),
    ("I don't want you to remember my password", Action.FORGET, "password"),
    ("wipe my bank details from memory", Action.FORGET, "bank details"),
])
def test_more_ways_to_cancel_list_and_forget(said, kind, topic):
    request = read_request(said)
    assert request is not None and (request.kind, request.topic) == (kind, topic)


def dentist_offered(now: datetime) -> bool:
    """An offer an hour before "Tuesday at 10" exists unless that hour is already past (Tuesday 9-10 today)."""
    return find_plan(DENTIST, "UTC", now) is not None


async def test_terminal_a_plan_is_offered_as_a_reminder_and_set_only_when_asked(terminal, memory):
    await terminal.reply(DENTIST)
    if not dentist_offered(datetime.now(timezone.utc)):
        pytest.skip("it is Tuesday between 9 and 10 UTC: the hour before has passed")
    assert "(say 'remind me' to get a reminder an hour before: " in printed(terminal)
    assert await memory.reminders.pending(CHAT) == []  # never set unasked
    await terminal.reply("My dog is called Rex.")
    assert printed(terminal).count("say 'remind me'") == 1  # a fact without a time offers nothing
    await terminal.reply(DENTIST)
    assert await terminal.action("remind me")
    pending = await memory.reminders.pending(CHAT)
    assert len(pending) == 1 and pending[0].text == "I have a dentist appointment on Tuesday at 10"
    due = datetime.fromtimestamp(pending[0].due_at, tz=timezone.utc)
    assert (due.weekday(), due.hour, due.minute) == (1, 9, 0)


# ----- Telegram ------------------------------------------------------------------------------------------------
@pytest.fixture
def config(tmp_path, fake):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.reminders.min_interval_seconds = 1
    config.assistant.statements = Statements.NOTE
    return config


def delivered(fake: FakeTelegram, text: str) -> list[dict]:
    return [m for m in fake.bot_messages(ALICE) if m.get("text") == text]


async def test_telegram_a_plain_reminder_is_set_and_delivered_once(fake, config):
    llm = ScriptedLLM(echo_memories)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        confirm = await command(fake, ALICE, BREAD)
        assert confirm["text"].startswith("⏰ OK, I will remind you on ")
        assert button(confirm, "Cancel").startswith("rem:cancel:")
        pending = await services.memory.reminders.pending(ALICE)
        assert [r.text for r in pending] == ["take the bread out of the oven"]
        assert 110 <= pending[0].due_at - time.time() <= 121
        await command(fake, ALICE, "Remind me in 2 seconds to take the cake out.")
        await until(lambda: len(delivered(fake, "⏰ take the cake out")) == 1, 15)
        await asyncio.sleep(1.5)
        assert len(delivered(fake, "⏰ take the cake out")) == 1
        listing = await command(fake, ALICE, "What reminders do I have?")
        assert "take the bread out of the oven" in listing["text"] and button(listing, "Cancel #")
        done = await command(fake, ALICE, "cancel the bread reminder")
        assert done["text"].startswith("Cancelled #") and done["text"].endswith("take the bread out of the oven")
        assert llm.prompts == []  # no action went to the model


async def test_telegram_forget_what_i_just_said_asks_then_removes_only_it(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, "My sister Ana lives in Lisbon.")
        await converse(fake, services, ALICE, WIFI)
        question = await command(fake, ALICE, "forget what I just said")
        assert question["text"].startswith("Forget these 2 messages?") and "tulip77" in question["text"]
        assert "Lisbon" not in question["text"]
        mark = fake.mark()
        await fake.press(ALICE, question["message_id"], button(question, "Yes, forget"))
        await fake.wait_for(lambda c: c.method == "editMessageText" and c.ok, mark, 15)
        left = [m["text"] for m in await services.memory.messages.export(ALICE)]
        assert not any("tulip77" in t for t in left) and any("Lisbon" in t for t in left)


async def test_telegram_forget_asks_then_removes_and_the_password_is_not_answered(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        told = await converse(fake, services, ALICE, WIFI)
        assert told == "Noted: The wifi password at home is tulip77."
        question = await command(fake, ALICE, FORGET)
        assert question["text"].startswith("Forget these 2 messages?") and "tulip77" in question["text"]
        mark = fake.mark()
        await fake.press(ALICE, question["message_id"], button(question, "Yes, forget"))
        await fake.wait_for(lambda c: c.method == "editMessageText" and c.ok, mark, 15)
        assert "Forgotten" in fake.messages[(ALICE, question["message_id"])]["text"]
        answer = await converse(fake, services, ALICE, ASK_WIFI)
        assert "tulip77" not in answer
        assert not any("tulip77" in m["text"] for m in await services.memory.messages.export(ALICE))


async def test_telegram_a_plan_gets_a_button_and_the_reminder_only_when_pressed(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, DENTIST)
        if not dentist_offered(datetime.now(timezone.utc)):
            pytest.skip("it is Tuesday between 9 and 10 UTC: the hour before has passed")
        shown = fake.bot_messages(ALICE)[-1]
        data = button(shown, "remind me an hour before")
        assert await services.memory.reminders.pending(ALICE) == []  # never set unasked
        mark = fake.mark()
        await fake.press(ALICE, shown["message_id"], data)
        await fake.wait_for(lambda c: c.method == "editMessageReplyMarkup" and c.ok, mark, 15)
        pending = await services.memory.reminders.pending(ALICE)
        assert len(pending) == 1 and pending[0].text == "I have a dentist appointment on Tuesday at 10"
        due = datetime.fromtimestamp(pending[0].due_at, tz=timezone.utc)
        assert (due.weekday(), due.hour) == (1, 9) and due - datetime.now(timezone.utc) < timedelta(days=8)
        assert "reply_markup" not in fake.messages[(ALICE, shown["message_id"])]  # the offer is taken
        assert any(m.get("text", "").startswith("⏰ OK, I will remind you on ") for m in fake.bot_messages(ALICE))
        mark = fake.mark()
        await fake.press(ALICE, shown["message_id"], data)  # pressed again (a double tap, a slow network)
        again = await fake.wait_for(lambda c: c.method == "sendMessage" and c.ok, mark, 15)
        assert again.params["text"].startswith("Already set: #")
        assert len(await services.memory.reminders.pending(ALICE)) == 1
        if find_plan("On Thursday I fly to Rome.", "UTC", datetime.now(timezone.utc)) is None:
            return  # a Thursday after 09:00: that morning has passed, nothing to offer (checked above for Tuesday)
        await converse(fake, services, ALICE, "On Thursday I fly to Rome.")
        assert button(fake.bot_messages(ALICE)[-1], "remind me that morning")
        said = await command(fake, ALICE, "yes, remind me")  # in words, as in the terminal
        assert said["text"].startswith("⏰ OK, I will remind you on Thu ")
        assert "On Thursday I fly to Rome" in said["text"]
        assert len(await services.memory.reminders.pending(ALICE)) == 2


SUNDAY_NOON = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "remind_at", "label"), [
    (DENTIST, datetime(2026, 12, 8, 9, 0, tzinfo=timezone.utc), "remind me an hour before"),
    ("On Thursday I fly to Rome.", datetime(2026, 12, 10, 9, 0, tzinfo=timezone.utc), "remind me that morning"),
    ("Tomorrow at 3pm I meet Bo for coffee.", datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc),
     "remind me an hour before"),
])
def test_a_plan_in_a_statement_is_found(text, remind_at, label):
    found = find_plan(text, "UTC", SUNDAY_NOON)
    assert found is not None and found.remind_at == remind_at and found.label == label


@pytest.mark.parametrize("text", [
    "I had a dentist appointment on Tuesday.", "I woke up at 7.", "I moved to Berlin last month.",
    "I run every Monday at 8.", "Is the meeting on Friday?", WIFI, "My daughter is 7.",
])
def test_the_past_a_habit_or_a_question_offers_nothing(text):
    assert find_plan(text, "UTC", SUNDAY_NOON) is None


def test_the_conversation_suites_are_big_with_held_out_cases_and_their_looks_alike_are_no_actions():
    from bench.replies_conversations import ACTION_CASES, ECHO_CASES

    for cases in (ACTION_CASES, ECHO_CASES):
        assert len(cases) >= 20 and len({c.name for c in cases}) == len(cases)
        assert 5 <= sum(c.held_out for c in cases) < len(cases) // 2
    for case in ACTION_CASES:  # what the suite expects of each case is what the reader reads
        found = read_request(case.probe)
        assert (found.kind.value if found else None) == case.action, case.name


async def test_forget_what_i_just_said_in_a_group_takes_only_the_askers_message_and_its_replies(memory):
    group = -100
    said = [Message(group, 1, "My PIN is 4321", sender_id=7, sender_name="Alice"),
            Message(group, 2, "Noted: your PIN is 4321.", role="assistant", reply_to=1),
            Message(group, 3, "@engram capital of France?", sender_id=8, sender_name="Bob"),
            Message(group, 4, "Paris.", role="assistant", reply_to=3),
            Message(group, 5, "forget what I just said", sender_id=7, sender_name="Alice", meta={"kind": ACTION}),
            Message(group, 6, "Forget these 2 messages?", role="assistant", reply_to=5)]
    for m in said:
        await memory.messages.remember(m)
    found = await actions.forget_last_said(memory, group, 7)
    assert sorted(m.text for m in found.preview) == ["My PIN is 4321", "Noted: your PIN is 4321."]
    assert (await actions.forget_last_said(memory, group, 8)).preview[-1].text == "@engram capital of France?"
    assert (await actions.forget_last_said(memory, group, 9)).count == 0  # nothing of theirs
