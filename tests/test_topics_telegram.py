"""/topics, /map and /timeline end to end: the real Application and PTB's HTTP stack against the fake Bot API."""

from __future__ import annotations

import io

import pytest
from fake_llm import ScriptedLLM, echo_memories
from PIL import Image
from telegram_helpers import bot_config, bot_running, button, command, converse
from test_topics import composed

from memory import HashEmbedder

pytestmark = [pytest.mark.timeout(180), pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

ALICE, BOB = 1001, 1002


@pytest.fixture
async def bot(tmp_path, fake):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE, BOB])
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        yield services


async def test_topics_answers_with_buttons_and_map_sends_a_photo(fake, bot):
    assert {"topics", "map", "timeline"} <= {c["command"] for c in fake.commands}
    await bot.memory.messages.remember_many(composed(ALICE, 25)[0])
    listing = await command(fake, ALICE, "/topics", timeout=120)
    assert listing["text"].startswith("Topics — all time: 100 messages")
    assert "pasta" in listing["text"] or "garlic" in listing["text"]

    mark = fake.mark()  # a topic's messages: a message of its own, with a pager
    await fake.press(ALICE, listing["message_id"], button(listing, "1. messages"))
    call = await fake.wait_for(lambda c: c.method == "sendMessage" and c.ok and c.chat_id == ALICE, mark)
    page = fake.messages[(ALICE, call.result["message_id"])]
    assert page["text"].startswith("Topic 1:") and "more" in str(page["reply_markup"])
    assert "Page 1 of " in page["text"] and page["text"].endswith(": the buttons below page on.")

    mark = fake.mark()  # its trend: a photo
    await fake.press(ALICE, listing["message_id"], button(listing, "1. trend"))
    await fake.wait_for(lambda c: c.method == "sendPhoto" and c.ok and c.chat_id == ALICE, mark, 60)
    assert Image.open(io.BytesIO(fake.photos[-1]["content"])).size[0] >= 1280

    mark = fake.mark()  # a button of an older version, or not ours: said so, nothing else happens
    await fake.press(ALICE, listing["message_id"], "topic:old:one")
    stale = await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and c.ok, mark)
    assert stale.params.get("text") == "This button does not work any more."

    photo = await command(fake, ALICE, "/map", timeout=120)
    assert photo["photo"] and photo["caption"].startswith("Map of this chat's memory — all time: 100 messages")
    image = Image.open(io.BytesIO(fake.photos[-1]["content"]))
    assert image.format == "PNG" and image.size[0] >= 1280

    await command(fake, ALICE, "/timeline garlic", timeout=60)
    assert fake.photos[-1]["caption"].startswith("“garlic”")

    # Another chat: its own (empty) memory, a plain answer; replies still flow while topics were computed.
    assert (await command(fake, BOB, "/topics"))["text"].startswith("Only 0 messages in this chat so far")
    assert (await command(fake, BOB, "/map last week"))["text"].startswith("Only 0 messages in this chat for")
    assert "You said: what is garlic?" in await converse(fake, bot, BOB, "what is garlic?")
