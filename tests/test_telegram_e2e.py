"""End to end through the real PTB HTTP stack against the fake Bot API: replies, memory commands, isolation.

HashEmbedder + a scripted LLM (fast); the real models are in test_telegram_real.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram_helpers import bot_config, bot_running, button, command, converse, press, quiet, until_stored

from bot.errors import LLMUnavailable
from memory import HashEmbedder

pytestmark = [pytest.mark.timeout(90), pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

ALICE, BOB, MALLORY = 1001, 1002, 6666
GROUP = -100500


@pytest.fixture
def config(tmp_path, fake):
    return bot_config(tmp_path, fake, allowed_user_ids=[ALICE, BOB])


@pytest.fixture
async def bot(config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        yield services


async def test_startup_sets_the_command_menu_and_private_messages_get_streamed_replies(fake, bot):
    names = [c["command"] for c in fake.commands]
    assert {"start", "help", "search", "forget", "export", "stats", "reset", "why", "compare"} <= set(names)
    reply = await converse(fake, bot, ALICE, "Hello, my cat is called Tom")
    assert reply == "You said: Hello, my cat is called Tom\nNo memories."
    assert fake.calls_of("sendChatAction", ALICE), "no typing action while generating"
    assert fake.calls_of("editMessageText", ALICE), "the reply was not streamed by editing"
    stored = await bot.memory.messages.export(ALICE)
    user, assistant = sorted(stored, key=lambda m: m["message_id"])
    assert user["text"] == "Hello, my cat is called Tom" and user["sender_id"] == ALICE
    sent_id = fake.bot_messages(ALICE)[0]["message_id"]
    assert assistant["role"] == "assistant" and assistant["message_id"] == sent_id
    assert assistant["text"] == reply and assistant["reply_to"] == user["message_id"]


async def test_recall_reaches_the_reply_and_why_lists_it(fake, bot):
    await converse(fake, bot, ALICE, "My sister Priya lives in Lisbon")
    for i in range(6):  # push the fact out of the recent turns (with recent turns on, both sides count)
        await converse(fake, bot, ALICE, f"unrelated chatter number {i}")
    reply = await converse(fake, bot, ALICE, "Where does Priya live?")
    assert "My sister Priya lives in Lisbon" in reply
    why = await command(fake, ALICE, "/why")
    assert "My sister Priya lives in Lisbon" in why["text"] and "similarity" in why["text"]


async def test_throttled_edits_and_a_429_waited_out(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE], edit_interval=0.3)
    text = " ".join(f"word{i}" for i in range(60))
    llm = ScriptedLLM(text, chunk=8, delay=0.02)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        fake.flood("editMessageText", retry_after=1)
        reply = await converse(fake, services, ALICE, "talk to me")
    assert reply == text
    edits = [c for c in fake.calls if c.chat_id == ALICE and c.method in ("sendMessage", "editMessageText")]
    flooded = [i for i, c in enumerate(edits) if not c.ok]
    assert len(flooded) == 1
    after = edits[flooded[0] + 1]
    assert after.at - edits[flooded[0]].at >= 0.95, "the retry_after was not waited out"
    ok_times = [c.at for c in edits if c.ok]
    gaps = [b - a for a, b in itertools.pairwise(ok_times)]
    assert min(gaps) >= 0.25, f"edits closer than the configured interval: {gaps}"


async def test_over_long_reply_arrives_in_several_messages(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    text = "\n".join(f"Line {i}: " + "lorem ipsum dolor sit amet " * 4 for i in range(90))  # ~10k chars
    async with bot_running(config, ScriptedLLM(text, chunk=400), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, "tell me everything")
        stored = [m for m in await services.memory.messages.export(ALICE) if m["role"] == "assistant"]
    shown = fake.bot_messages(ALICE)
    assert len(shown) >= 3 and all(len(m["text"]) <= 4096 for m in shown)
    assert " ".join(" ".join(m["text"] for m in shown).split()) == " ".join(text.split())
    assert not fake.errors()
    assert stored[0]["text"] == text.strip() and stored[0]["message_id"] == shown[0]["message_id"]


async def test_model_output_with_markup_characters_never_breaks_a_message(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    text = ("if a < b && c > d then *stars* and _under_score_ and `inline code` and <b>not a tag</b>\n"
            "```python\nprint('<html> & co')\n```\nsnake_case_name **bold** ` lone backtick & <unclosed")
    async with bot_running(config, ScriptedLLM(text, chunk=5), HashEmbedder(64)) as services:
        reply = await converse(fake, services, ALICE, "show me code")
    assert not fake.errors(), [c.result for c in fake.errors()]
    for fragment in ("a < b && c > d", "*stars*", "_under_score_", "<b>not a tag</b>", "print('<html> & co')",
                     "` lone backtick & <unclosed"):
        assert fragment in reply
    raw, mode = fake.raw[(ALICE, fake.bot_messages(ALICE)[0]["message_id"])]
    assert mode == "HTML" and "<pre>" in raw and "<code>inline code</code>" in raw


async def test_parse_error_falls_back_to_plain_text(fake, bot):
    fake.fail("sendMessage", description="Bad Request: can't parse entities: Unsupported start tag", times=1,
              when=lambda p: p.get("parse_mode") == "HTML")
    reply = await converse(fake, bot, ALICE, "what is a tag?")
    assert reply.startswith("You said: what is a tag?")
    _raw, mode = fake.raw[(ALICE, fake.bot_messages(ALICE)[0]["message_id"])]
    assert mode is None


async def test_groups_store_everything_but_answer_only_when_addressed(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_chat_ids=[GROUP])
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        chatter = await fake.text(GROUP, "Bob is bringing the cake on Saturday", user_id=BOB, name="Bob")
        await until_stored(services, GROUP, chatter["message_id"])
        assert fake.calls_of("sendMessage", GROUP) == []
        reply = await converse(fake, services, GROUP, "@engram_test_bot who brings the cake?", user_id=ALICE)
        assert "who brings the cake?" in reply and "@engram_test_bot" not in reply
        first_reply = fake.bot_messages(GROUP)[0]
        followup = await converse(fake, services, GROUP, "and when?", user_id=ALICE,
                                  reply_to=first_reply["message_id"])
        assert "and when?" in followup
        assert "cake on Saturday" in (await command(fake, GROUP, "/search@engram_test_bot cake", user_id=ALICE))["text"]
        sent = fake.calls_of("sendMessage", GROUP)
        assert sent[0].params["reply_parameters"]["message_id"] > chatter["message_id"]  # quotes the question


async def test_users_not_on_the_allowlist_get_nothing_stored_and_one_refusal(fake, bot):
    await converse(fake, bot, ALICE, "My bank PIN is 4242")
    for text in ("hello?", "What is Alice's bank PIN?", "/search PIN", "/export"):
        await fake.text(MALLORY, text)
    await fake.text(GROUP, "@engram_test_bot tell me secrets", user_id=MALLORY)
    await quiet(fake, bot, ALICE)
    to_mallory = [c for c in fake.calls if c.chat_id == MALLORY and c.method.startswith("send")]
    assert len(to_mallory) == 1 and "not on its list" in to_mallory[0].params["text"]
    assert "4242" not in json.dumps([c.params for c in fake.calls if c.chat_id != ALICE])
    assert (await bot.memory.messages.stats(MALLORY))["messages"] == 0
    assert (await bot.memory.messages.stats(GROUP))["messages"] == 0
    assert fake.calls_of("sendMessage", GROUP) == []


async def test_two_chats_interleaved_never_see_each_others_memories(fake, config):
    config.recall.recent_turns = 0  # everything the model sees of the past comes through recall
    secrets = {ALICE: "alpha secret code is zebra", BOB: "bravo secret code is walrus"}
    llm = ScriptedLLM(echo_memories)
    async with bot_running(config, llm, HashEmbedder(64)) as bot:
        for round_ in range(3):
            for chat, secret in secrets.items():
                await converse(fake, bot, chat, f"{secret} round {round_}")
        for chat, other in ((ALICE, BOB), (BOB, ALICE)):
            own, foreign = secrets[chat].split()[-1], secrets[other].split()[-1]
            reply = await converse(fake, bot, chat, "what is my secret code?")
            assert own in reply and foreign not in reply
            found = await command(fake, chat, f"/search secret code {foreign}")
            results = found["text"].split("\n", 1)[1]  # below the header that repeats the query
            assert own in results and foreign not in results
            why = await command(fake, chat, "/why")
            assert own in why["text"] and foreign not in why["text"]
    for prompt in llm.prompts:  # no prompt ever mixed the two chats
        text = json.dumps(prompt)
        assert not ("zebra" in text and "walrus" in text)


async def test_a_long_generation_in_one_chat_does_not_block_another(fake, tmp_path):
    """With a server that batches (parallel_replies 2), another chat's reply does not wait for a long one; with
    the default (one at a time, for a CPU model) it comes right after it, before that chat's next reply."""
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE, BOB])
    config.assistant.parallel_replies = 2
    hold = asyncio.Event()
    llm = ScriptedLLM(echo_memories, hold=hold, hold_if=lambda messages: "long poem" in messages[-1]["content"])
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        mark = fake.mark()
        await fake.text(ALICE, "write me a long poem")  # this generation waits until released
        await fake.wait_for_method("sendChatAction", ALICE, mark)
        bob_mark = fake.mark()
        await fake.text(BOB, "quick question")
        done = await fake.wait_for(lambda c: c.chat_id == BOB and c.ok and c.method != "sendChatAction"
                                   and c.params.get("text", "").endswith("No memories."), bob_mark, timeout=10)
        assert done.params["text"].startswith("You said: quick question")
        assert fake.calls_of("sendMessage", ALICE, mark) == []  # Alice's reply is still being written
        hold.set()
        await fake.wait_for_method("sendMessage", ALICE, mark)
        await services.settle(10)
    assert fake.bot_messages(ALICE)[0]["text"].startswith("You said: write me a long poem")


async def test_chats_take_turns_and_a_waiting_reply_shows_no_typing(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE, BOB])
    hold = asyncio.Event()
    llm = ScriptedLLM(echo_memories, hold=hold, hold_if=lambda messages: "long poem" in messages[-1]["content"])
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        mark = fake.mark()
        await fake.text(ALICE, "write me a long poem")
        await fake.wait_for_method("sendChatAction", ALICE, mark)
        bob = await fake.text(BOB, "quick question")
        await until_stored(services, BOB, bob["message_id"])  # stored at once ...
        await asyncio.sleep(0.3)
        assert fake.calls_of("sendChatAction", BOB, mark) == []  # ... but no "typing" while it waits its turn
        await fake.text(ALICE, "and another one")  # Alice's next reply queues behind Bob's
        hold.set()
        await fake.wait_for(lambda c: c.method == "sendMessage" and len(fake.calls_of("sendMessage", ALICE)) >= 2,
                            mark, timeout=10)
        await services.settle(10)
    order = [c.chat_id for c in fake.calls_of("sendMessage", None, mark) if c.ok]
    assert order == [ALICE, BOB, ALICE]


async def test_second_message_in_the_same_chat_is_queued(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    async with bot_running(config, ScriptedLLM(echo_memories, delay=0.05, chunk=4), HashEmbedder(64)) as services:
        await fake.text(ALICE, "first question")
        await fake.text(ALICE, "second question")
        await fake.wait_for(lambda c: c.method == "sendMessage" and len(fake.calls_of("sendMessage", ALICE)) >= 2)
        await services.settle(20)
    texts = [m["text"] for m in fake.bot_messages(ALICE)]
    assert texts[0].startswith("You said: first question") and texts[1].startswith("You said: second question")


@pytest.fixture
async def noting_bot(config):
    """A bot whose replies do not repeat the user's words (so only the user's message holds a fact)."""
    async with bot_running(config, ScriptedLLM("Noted."), HashEmbedder(64)) as services:
        yield services


async def test_edits_captions_and_forwards_are_remembered(fake, noting_bot):
    bot = noting_bot
    original = await fake.text(ALICE, "the meeting is on Monday")
    await until_stored(bot, ALICE, original["message_id"])
    await bot.settle(10)
    await fake.edit(ALICE, original["message_id"], "the meeting is on Thursday")
    photo = await fake.photo(ALICE, "receipt for the blue lamp")
    forwarded = await fake.forwarded(ALICE, "ship it tomorrow", fake.user(77, "Carol"))
    await quiet(fake, bot, ALICE)
    edited = await bot.memory.messages.get(ALICE, original["message_id"])
    assert edited.text == "the meeting is on Thursday" and edited.edited_at is not None
    hits = await bot.memory.messages.search(ALICE, "Thursday", 3)
    assert hits and hits[0].message.message_id == original["message_id"]
    assert not [h for h in await bot.memory.messages.search(ALICE, "Monday", 10) if "Monday" in h.message.text]
    caption = await bot.memory.messages.get(ALICE, photo["message_id"])
    assert caption.text == "receipt for the blue lamp" and caption.kind == "photo"
    assert len(edited.meta["days"]) == 1  # the days it speaks of, read again from the edited text (Thursday)
    fwd = await bot.memory.messages.get(ALICE, forwarded["message_id"])
    assert fwd.meta["forwarded_from"]["name"] == "Carol" and fwd.meta["forwarded_from"]["user_id"] == 77


async def test_forget_a_message_removes_it_from_search_and_recall(fake, noting_bot):
    bot = noting_bot
    target = await fake.text(ALICE, "my locker combination is 1234")
    await until_stored(bot, ALICE, target["message_id"])
    await bot.settle(10)
    assert "1234" in (await command(fake, ALICE, "/search locker combination"))["text"]
    answer = await command(fake, ALICE, "/forget", reply_to=target["message_id"])
    assert "Forgotten" in answer["text"]
    assert "1234" not in (await command(fake, ALICE, "/search locker combination"))["text"]
    recalled = await bot.memory.messages.recall(ALICE, "locker combination", 10)
    assert not [h for h in recalled if "1234" in h.message.text]
    for i in range(5):
        await converse(fake, bot, ALICE, f"filler {i}")
    bot.llm.reply = echo_memories
    reply = await converse(fake, bot, ALICE, "what is my locker combination?")
    # nothing of the forgotten message is recalled: not its text, and not the reply after it (whose vector no
    # longer holds the previous turn's words since each message is embedded alone)
    assert "1234" not in reply


async def test_forget_by_query_asks_first_and_forget_all_empties_the_chat(fake, bot):
    for text in ("I love green tea", "green tea at 5pm daily", "the car needs new tyres"):
        await converse(fake, bot, ALICE, text)
    ask = await command(fake, ALICE, "/forget green tea")
    assert "Forget these" in ask["text"] and "green tea" in ask["text"]
    found = await bot.memory.messages.search(ALICE, "green tea", 20)
    assert len([h for h in found if "green tea" in h.message.text]) >= 2
    done = await press(fake, ALICE, ask, button(ask, "yes"))
    assert "Forgotten" in done["text"]
    left = await bot.memory.messages.export(ALICE)
    assert not [m for m in left if m["role"] == "user" and "green tea" in m["text"]]
    assert [m for m in left if "tyres" in m["text"]]

    ask_all = await command(fake, ALICE, "/forget all")
    cancelled = await press(fake, ALICE, ask_all, button(ask_all, "cancel"))
    assert "nothing was forgotten" in cancelled["text"] and await bot.memory.messages.export(ALICE)
    ask_all = await command(fake, ALICE, "/forget all")
    await press(fake, ALICE, ask_all, button(ask_all, "yes"))
    assert await bot.memory.messages.export(ALICE) == []
    assert "Nothing in this chat" in (await command(fake, ALICE, "/search tyres"))["text"]


async def test_forget_all_in_a_group_needs_an_admin(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_chat_ids=[GROUP], admin_user_ids=[ALICE])
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        m = await fake.text(GROUP, "group fact", user_id=BOB)
        await until_stored(services, GROUP, m["message_id"])
        refused = await command(fake, GROUP, "/forget all", user_id=BOB)
        assert "only the bot's admins" in refused["text"]
        ask = await command(fake, GROUP, "/forget all", user_id=ALICE)
        await fake.press(GROUP, ask["message_id"], button(ask, "yes"), user_id=BOB)  # not the asker
        await quiet(fake, services, GROUP, probe_user=ALICE)
        assert await services.memory.messages.export(GROUP)
        await press(fake, GROUP, ask, button(ask, "yes"), user_id=ALICE)
        assert await services.memory.messages.export(GROUP) == []


async def test_export_returns_every_stored_message_as_json(fake, bot):
    await converse(fake, bot, ALICE, "first thing")
    await fake.photo(ALICE, "a photo caption")
    await converse(fake, bot, ALICE, "second thing")
    document = await command(fake, ALICE, "/export")
    assert document["document"]["file_name"].endswith(".json")
    payload = json.loads(fake.documents[-1]["content"].decode("utf-8"))
    stored = await bot.memory.messages.export(ALICE)
    assert payload["chat_id"] == ALICE and payload["messages"] == stored
    texts = {m["text"] for m in payload["messages"]}
    assert {"first thing", "a photo caption", "second thing"} <= texts
    assert len([m for m in payload["messages"] if m["role"] == "assistant"]) == 2


async def test_search_pages_with_a_more_button(fake, bot):
    for i in range(12):
        m = await fake.photo(ALICE, f"holiday photo number {i}")
    await until_stored(bot, ALICE, m["message_id"])
    first = await command(fake, ALICE, "/search holiday photo")
    assert first["text"].count("holiday photo number") == 5 and "similarity" in first["text"]
    second = await press(fake, ALICE, first, button(first, "more"))
    assert second["text"].split("\n\n")[1].startswith("6. ")  # the second page starts at the 6th hit
    scores = [float(s) for s in re.findall(r"· score (\d+\.\d\d)", first["text"] + second["text"])]
    assert len(scores) == 10 and scores == sorted(scores, reverse=True)  # best first across pages, by what is shown
    third = await press(fake, ALICE, second, button(second, "more"))
    assert "11." in third["text"]
    assert await command(fake, ALICE, "/search")  # usage, no crash


async def test_stats_why_compare_reset_help_and_usage_errors(fake, bot):
    await converse(fake, bot, ALICE, "remember the red door")
    stats = await command(fake, ALICE, "/stats")
    assert "2 messages stored (1 from people, 1 from Engram)" in stats["text"] and "hash-embedder" in stats["text"]
    assert "Sent: " in stats["text"] and "(UTC)" in stats["text"] and "by_role" not in stats["text"]
    assert "p50" in stats["text"] and "scripted-test-llm" in stats["text"]
    same = await command(fake, ALICE, "/compare red door | red door")
    assert "Cosine similarity: 1.0000" in same["text"] and "Euclidean distance: 0.0000" in same["text"]
    assert "Usage" in (await command(fake, ALICE, "/compare only one side"))["text"]
    assert "Fresh start" in (await command(fake, ALICE, "/reset"))["text"]
    await converse(fake, bot, ALICE, "what colour was the door?")
    why = await command(fake, ALICE, "/why")
    assert "remember the red door" in why["text"]  # reset keeps long-term memory: recalled, not in the recent turns
    assert "/search" in (await command(fake, ALICE, "/help"))["text"]
    assert not fake.errors()


async def test_errors_are_logged_and_the_user_gets_a_plain_message(fake, tmp_path):
    def broken(messages):
        raise RuntimeError("internal detail: stack of turtles")

    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    async with bot_running(config, ScriptedLLM(broken), HashEmbedder(64)) as services:
        text = await converse(fake, services, ALICE, "what is the tallest tree?")
    assert "something went wrong" in text and "turtles" not in text


async def test_a_reply_the_model_fails_midway_is_shown_cut_then_the_error_and_none_of_it_is_stored(fake, tmp_path):
    broken = LLMUnavailable("the LLM server at http://127.0.0.1:9/v1 closed the connection before the reply ended")
    llm = ScriptedLLM("Once upon a time", fail_with=broken)
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        shown = await converse(fake, services, ALICE, "tell me a story")
        partial, error = fake.bot_messages(ALICE)
        assert partial["text"] == "Once …"  # what had been shown stays, marked as cut short
        assert error["text"] == str(broken)
        assert shown == f"Once …\n{broken}"
        assert [m["role"] for m in await services.memory.messages.export(ALICE)] == ["user"]
        llm.fail_with = None  # the server is back: the bot answers the next message as usual
        assert await converse(fake, services, ALICE, "and now?") == "Once upon a time"


async def test_restart_keeps_memory(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, "the spare key is under the blue flowerpot")
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        found = await command(fake, ALICE, "/search spare key")
        assert "blue flowerpot" in found["text"]
        for i in range(5):
            await converse(fake, services, ALICE, f"small talk {i}")
        reply = await converse(fake, services, ALICE, "where is the spare key?")
    assert "under the blue flowerpot" in reply.split("\n", 1)[1]


async def test_webhook_mode_receives_updates_posted_by_telegram(fake, config):
    """What run_webhook does, step by step: setWebhook on the fake, updates POSTed to our own listener."""
    import socket

    import aiohttp

    from handlers.app import build_application
    from handlers.context import services_of

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    application = build_application(config, llm=ScriptedLLM(echo_memories), embedder=HashEmbedder(64))
    await application.initialize()
    await application.post_init(application)
    try:
        await application.updater.start_webhook(listen="127.0.0.1", port=port, url_path="hook",
                                                webhook_url="https://bot.example/hook", secret_token="s3cret")
        await application.start()
        assert fake.calls_of("setWebhook")[0].params["url"] == "https://bot.example/hook"
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": fake.chat(ALICE),
                                              "from": fake.user(ALICE), "text": "via webhook"}}
        async with aiohttp.ClientSession() as http:
            wrong = await http.post(f"http://127.0.0.1:{port}/hook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
            assert wrong.status == 403
            right = await http.post(f"http://127.0.0.1:{port}/hook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            assert right.status == 200
        await fake.wait_for_method("sendMessage", ALICE)
        await services_of(application).settle(10)
        assert fake.bot_messages(ALICE)[0]["text"].startswith("You said: via webhook")
    finally:
        await application.updater.stop()
        await application.stop()
        await application.post_stop(application)
        await application.shutdown()
        await application.post_shutdown(application)


async def test_turns_within_one_second_keep_their_order(fake, bot):
    """Telegram dates are whole seconds; replies are stored with sub-second times: order must survive both."""
    for i in range(3):
        await converse(fake, bot, ALICE, f"quick message {i}")
    recent = await bot.memory.messages.recent(ALICE, 6)
    assert [m.role for m in recent] == ["user", "assistant"] * 3
    assert [m.text for m in recent if m.role == "user"] == [f"quick message {i}" for i in range(3)]


async def test_a_group_that_becomes_a_supergroup_keeps_its_memory_and_its_access(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_chat_ids=[GROUP])
    supergroup = -1001234500
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        chatter = await fake.text(GROUP, "Bob is bringing the cake on Saturday", user_id=BOB, name="Bob")
        await until_stored(services, GROUP, chatter["message_id"])
        notice = fake._new_message(GROUP, fake.user(BOB, "Bob"), migrate_to_chat_id=supergroup)
        await fake.push(message=notice)
        deadline = asyncio.get_running_loop().time() + 10
        while (await services.memory.messages.stats(supergroup))["messages"] == 0:
            assert asyncio.get_running_loop().time() < deadline, "memory was not moved"
            await asyncio.sleep(0.05)
        fake.chats[supergroup] = {"id": supergroup, "type": "supergroup", "title": "Now a supergroup"}
        found = (await command(fake, supergroup, "/search cake", user_id=ALICE))["text"]
        assert "cake on Saturday" in found
        assert (await services.memory.messages.stats(GROUP))["messages"] == 0


async def test_the_same_question_asked_twice_cites_the_users_own_message_both_times(fake, config):
    """Issue 24: "Where does my sister live?" was answered from, and cited, Engram's own "Noted: …" echo, and
    asked again, the earlier question. Acknowledged as a user sees it (without the model), asked twice."""
    from bot.config import Statements

    config.assistant.statements = Statements.NOTE
    async with bot_running(config, ScriptedLLM("Your sister Ana lives in Lisbon."), HashEmbedder(64)) as bot:
        noted = await converse(fake, bot, ALICE, "My sister Ana lives in Lisbon.")
        assert noted == "Noted: your sister Ana lives in Lisbon."
        told = next(m for m in await bot.memory.messages.export(ALICE) if m["role"] == "user")
        replies = [await converse(fake, bot, ALICE, "Where does my sister live?") for _ in range(2)]
        assert replies[0] == replies[1]
        for reply in replies:
            assert reply.startswith("Your sister Ana lives in Lisbon.")
            assert "ALICE" not in reply and "“My sister Ana lives in Lisbon.”" in reply  # the user's own words
            assert "Engram:" not in reply and "Where does" not in reply.split("\n", 1)[1]
        exported = await bot.memory.messages.export(ALICE)
        kinds = [(m["meta"] or {}).get("kind") for m in exported if m["role"] == "assistant"]
        assert kinds == ["acknowledgement", None, None]
        search = (await command(fake, ALICE, "/search where does my sister live"))["text"]
        entries = [e.split("\n", 1)[1] for e in search.split("\n\n") if re.match(r"\d+\. ", e)]
        assert "Noted:" not in search
        assert entries and entries[0] == told["text"]  # what the user told first, questions and replies after
        assert not fake.errors()
