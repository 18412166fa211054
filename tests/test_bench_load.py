"""bench-load (bench/load/) and what it needs of the fake Bot API server: Telegram's update semantics
(re-delivery of unconfirmed updates, never of confirmed ones), flood limits (429 + retry_after), and the harness end
to end with a fast bot: in this process, and as a child process that is SIGKILLed mid-burst and restarted."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest
from fake_llm import ScriptedLLM
from fake_telegram import Limits
from telegram_helpers import bot_running

from bench import load
from memory import HashEmbedder

pytestmark = [pytest.mark.timeout(180), pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

REPO = Path(__file__).resolve().parents[1]
ALICE, BOB, GROUP = 1001, 1002, -100900


async def api(fake, method: str, **params) -> dict:
    """One Bot API call to the fake, as a bot would make it; the whole JSON answer (ok or not)."""
    async with aiohttp.ClientSession() as http, http.post(f"{fake.base_url}{fake.token}/{method}",
                                                          json=params) as response:
        body = await response.json()
        assert (response.status == 200) == body["ok"]
        return body


def ids(body: dict) -> list[int]:
    return [u["update_id"] for u in body["result"]]


# ----- the fake server: updates ----------------------------------------------------------------------------------
async def test_unconfirmed_updates_are_delivered_again_and_confirmed_ones_never(fake):
    for text in ("one", "two", "three"):
        await fake.text(ALICE, text)
    assert ids(await api(fake, "getUpdates")) == [1, 2, 3]
    assert ids(await api(fake, "getUpdates")) == [1, 2, 3], "not confirmed: handed over again"
    assert ids(await api(fake, "getUpdates", offset=3)) == [3], "offset 3 confirms 1 and 2"
    # a restarted bot asks with no offset, or an old one: 1 and 2 are gone for good, 3 comes again
    assert ids(await api(fake, "getUpdates")) == [3]
    assert ids(await api(fake, "getUpdates", offset=1)) == [3]
    assert ids(await api(fake, "getUpdates", offset=0)) == [3]
    assert fake.confirmed_below == 3 and fake.deliveries[1] == 2 and fake.deliveries[3] == 6
    await fake.text(ALICE, "four")
    await fake.text(ALICE, "five")
    assert ids(await api(fake, "getUpdates", offset=-1)) == [5], "a negative offset keeps only the last ones"
    assert ids(await api(fake, "getUpdates")) == [5]
    assert ids(await api(fake, "getUpdates", offset=6, timeout=0)) == []
    assert ids(await api(fake, "getUpdates", offset=2)) == []
    assert sorted(fake.handed_over) == [1, 2, 3, 5], "4 was never handed over"


async def test_drop_pending_updates_and_a_superseded_long_poll(fake):
    await fake.text(ALICE, "before the restart")
    await api(fake, "deleteWebhook", drop_pending_updates=True)
    assert ids(await api(fake, "getUpdates")) == []
    waiting = asyncio.create_task(api(fake, "getUpdates", timeout=10))
    while fake.polls < 2:
        await asyncio.sleep(0.01)
    newer = await api(fake, "getUpdates", timeout=0)
    older = await asyncio.wait_for(waiting, 5)
    assert newer["ok"] and not older["ok"] and older["error_code"] == 409 and "Conflict" in older["description"]
    await fake.text(ALICE, "after")
    assert [u["message"]["text"] for u in (await api(fake, "getUpdates"))["result"]] == ["after"]


# ----- the fake server: flood limits ------------------------------------------------------------------------------
async def test_limits_answer_429_with_retry_after_per_chat_and_let_chat_actions_pass(fake):
    fake.enforce(Limits(per_chat=1.0, per_chat_burst=1))
    assert (await api(fake, "sendMessage", chat_id=ALICE, text="first"))["ok"]
    refused = await api(fake, "sendMessage", chat_id=ALICE, text="second")
    assert refused["error_code"] == 429 and refused["parameters"]["retry_after"] == 1
    assert refused["description"].startswith("Too Many Requests")
    edit = await api(fake, "editMessageText", chat_id=ALICE, message_id=1, text="edited")
    assert edit["error_code"] == 429, "edits count as messages"
    assert (await api(fake, "sendChatAction", chat_id=ALICE, action="typing"))["ok"], "chat actions are not limited"
    assert (await api(fake, "sendMessage", chat_id=BOB, text="another chat"))["ok"]
    await asyncio.sleep(1.05)
    assert (await api(fake, "sendMessage", chat_id=ALICE, text="second, later"))["ok"]
    assert fake.too_many[("sendMessage", ALICE)] == 1 and fake.limited[("editMessageText", ALICE)] == 1
    assert sum(fake.too_many.values()) == 2 and fake.count("sendMessage") == 4 and fake.count("sendMessage", BOB) == 1
    assert len(fake.sent_times(ALICE)) == 2, "a refused send makes no message"


async def test_limits_overall_and_in_groups(fake):
    fake.enforce(Limits(overall=2, overall_burst=2))
    assert (await api(fake, "sendMessage", chat_id=ALICE, text="a"))["ok"]
    assert (await api(fake, "sendMessage", chat_id=BOB, text="b"))["ok"]
    assert (await api(fake, "sendMessage", chat_id=1003, text="c"))["error_code"] == 429
    fake.enforce(Limits(per_group_minute=2))
    for text in ("x", "y"):
        assert (await api(fake, "sendMessage", chat_id=GROUP, text=text))["ok"]
    refused = await api(fake, "sendMessage", chat_id=GROUP, text="z")
    assert refused["error_code"] == 429 and refused["parameters"]["retry_after"] == 30  # 20 a minute: 2 here
    fake.enforce(None)
    assert (await api(fake, "sendMessage", chat_id=GROUP, text="z"))["ok"]


# ----- the harness's parts -----------------------------------------------------------------------------------------
def test_plans_and_windows():
    burst = load.burst_plan(3, 4, load.CHAT_LINES, seconds=1.0, group=True)
    assert len(burst.messages) == 16 and burst.all_chats == [1001, 1002, 1003, load.GROUP_ID]
    assert burst.messages[0].at == 0 and burst.messages[-1].at == pytest.approx(1.0)
    assert [p.mention for p in burst.messages if p.chat_id == load.GROUP_ID] == [False, False, False, True]
    steady = load.steady_plan(10, 2.0, 30, load.CHAT_LINES)
    assert len(steady.messages) == 60 and steady.messages[1].at == 0.5
    assert {p.burst for p in steady.messages if p.chat_id == 1001} == set(range(6))
    with_group = load.steady_plan(2, 1.0, 10, load.CHAT_LINES, group=True)
    assert with_group.messages[-1].chat_id != load.GROUP_ID or with_group.messages[-1].mention
    assert [p for p in with_group.messages if p.chat_id == load.GROUP_ID][-1].mention
    assert load.max_in_window([0, 4.5, 9, 13.5], 4) == 1
    assert load.max_in_window([0, 0.1, 0.2, 5, 5.1], 4) == 3


def test_report_counts_bursts_replies_and_latencies():
    from fake_telegram import Call, FakeTelegram

    fake = FakeTelegram()
    plan = load.steady_plan(1, 0.1, 30, load.CHAT_LINES)  # one chat, a message every 10 s: three bursts
    run = load.Run(plan, started=100.0, sending_ended=120.0, ended=140.0)
    run.sent = [load.Sent(ALICE, 1 + 2 * i, 1 + i, 100.0 + 10 * i, i, False) for i in range(3)]
    run.stored = {(ALICE, 1): 1, (ALICE, 3): 1}  # the third message was lost
    fake.sent_at = {(ALICE, 2): 105.0, (ALICE, 4): 125.0}  # a reply after the first burst, one after the last
    fake.calls = [Call("sendChatAction", {"chat_id": ALICE}, at) for at in (101.0, 102.0, 103.0, 108.0)]
    figures = load.report(fake, run)
    assert figures["messages_sent"] == 3 and figures["stored_distinct"] == 2 and figures["lost"] == 1
    assert figures["bursts"] == 3 and figures["replies"] == 2 and figures["unanswered_bursts"] == 0
    # first reply after each burst: 5 s, 15 s (the reply at 125), 5 s; matched one to one: 5 s, 15 s, and none
    assert figures["first_reply_p50_s"] == 5.0 and figures["first_reply_max_s"] == 15.0
    assert figures["own_reply_p95_s"] == 15.0 and figures["bursts_without_own_reply"] == 1
    assert figures["all_chats_answered_after_s"] == 5.0  # 125 - 120
    assert figures["chat_actions"] == 4 and figures["chat_actions_max_per_chat_4s"] == 3


# ----- the harness end to end ----------------------------------------------------------------------------------------
async def test_a_burst_through_an_in_process_bot(fake, tmp_path):
    plan = load.burst_plan(2, 5, load.CHAT_LINES, seconds=0.3, group=True)
    config_path = load.write_config(tmp_path, fake.base_url, plan)
    bot = load.InProcessBot(lambda config: bot_running(config, ScriptedLLM("Noted."), HashEmbedder(64)))
    run = await load.run_load(fake, bot, plan, config_path, {"TELEGRAM_BOT_TOKEN": fake.token},
                              tmp_path / "engram.db", load.Options(settle=1.5, max_wait=60))
    figures = load.report(fake, run)
    assert not figures["failure"] and figures["settled"] and figures["bot_stop"] == "stopped"
    assert figures["messages_sent"] == figures["stored_distinct"] == 15
    assert figures["lost"] == 0 and figures["stored_duplicates"] == 0
    assert figures["bursts"] == 3 and figures["unanswered_bursts"] == 0
    per_chat = figures["replies_per_chat"]
    assert 1 <= per_chat[str(ALICE)] <= 5 and 1 <= per_chat[str(BOB)] <= 5
    assert per_chat[str(load.GROUP_ID)] == 1, "in the group only the mention is answered"
    assert figures["chat_actions"] == fake.count("sendChatAction") >= 1
    assert figures["chat_actions_max_per_chat_4s"] >= 1
    assert figures["first_reply_p50_s"] is not None and figures["first_reply_p95_s"] >= figures["first_reply_p50_s"]
    assert figures["all_chats_answered_after_s"] is not None and figures["too_many_requests"] == 0
    assert figures["bursts_without_own_reply"] == 0 and figures["own_reply_p50_s"] is not None
    db = figures["database"]
    assert db["integrity"] == "ok" and db["consistent"]
    assert db["messages"] == db["vectors"] == db["keyword_rows"] == 15 + figures["replies"]
    text = load.table(figures)
    assert "messages sent" in text and "15 of 15" in text and "consistent" in text
    json.dumps(figures)


LAUNCHER = """
    import sys, time
    sys.path[:0] = [{repo!r}, {tests!r}]
    from fake_llm import ScriptedLLM
    from telegram import Update

    from bot.config import load_config
    from handlers.app import build_application
    from memory import HashEmbedder

    class SlowEmbedder(HashEmbedder):  # storing takes a while, so that a kill lands mid-burst
        def embed_batch(self, texts):
            time.sleep(0.05 * len(texts))
            return super().embed_batch(texts)

    application = build_application(load_config(sys.argv[1]), llm=ScriptedLLM("Noted.", delay=0.01),
                                     embedder=SlowEmbedder(64))
    application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=2)
"""


async def test_a_subprocess_bot_killed_mid_burst_and_restarted(fake, tmp_path):
    script = tmp_path / "launch_bot.py"
    script.write_text(textwrap.dedent(LAUNCHER.format(repo=str(REPO), tests=str(REPO / "tests"))))
    plan = load.burst_plan(2, 12, load.CHAT_LINES, seconds=6.0)  # some come while the bot is down
    config_path = load.write_config(tmp_path, fake.base_url, plan)
    bot = load.SubprocessBot(tmp_path / "bot.log", command=[sys.executable, str(script), "{config}"])
    run = await load.run_load(fake, bot, plan, config_path, load.bot_environment(fake.token, None),
                              tmp_path / "engram.db", load.Options(kill_at=[0.5], settle=2, max_wait=60))
    figures = load.report(fake, run)
    assert not figures["failure"], figures["failure"]
    assert bot.starts == 2 and not bot.alive() and figures["bot_stop"] == "stopped (SIGTERM)"
    (kill,) = figures["kills"]
    assert kill["reached"] and 12 <= kill["stored_at_kill"] < 24
    assert kill["handed_over_before"] >= kill["stored_at_kill"]
    assert kill["of_those_stored_at_end"] + kill["of_those_lost"] == kill["handed_over_before"]
    # what the server had not seen confirmed before the kill came again after the restart and was stored
    unconfirmed = [(s.chat_id, s.message_id) for s in run.sent if s.update_id >= run.kills[0].confirmed_below]
    assert unconfirmed and all(key in run.stored for key in unconfirmed)
    assert figures["stored_duplicates"] == 0 and figures["stored_distinct"] + figures["lost"] == 24
    assert figures["database"]["integrity"] == "ok" and figures["database"]["consistent"]
    assert "SIGKILL at 50% stored" in load.table(figures)
    assert "start 2" in (tmp_path / "bot.log").read_text()
