"""`bench-load`: the real bot under load, driven through the fake Telegram Bot API server.

The fake server (tests/fake_telegram.py, loaded by path: one copy for the tests and this benchmark, and bench/
needs a source checkout anyway) runs in this process on 127.0.0.1. The bot runs as users run it, in a child
process (`python -m bot --config FILE telegram`) with the configured models, its own database in a fresh folder
and `telegram.base_url` pointing at the fake. Simulated users (allowed private chats, optionally one group where
the last message of each burst mentions the bot) then send:

  --scenario burst    N chats x M messages as fast as possible (default 3 x 100 within --burst-seconds 1)
  --scenario steady   R messages a second spread over N chats for T seconds (default 1/s, 10 chats, 300 s)

With --kill-at 0.1,0.5,0.9 the bot is SIGKILLed when that fraction of the messages is stored (read from the
database with a connection of this benchmark's own), restarted, and the run goes on. With --enforce-limits the
fake answers calls over Telegram's flood limits with 429 + retry_after (fake_telegram.Limits).

The run ends when the bot has settled (everything sent, nothing left for it to fetch, no stored message and no
bot call for --settle seconds) or --max-wait seconds after the last message; the bot is then stopped (SIGTERM,
SIGKILL after --stop-grace seconds) and the database checked on a copy (integrity, messages = vectors = keyword
rows). Printed: messages sent / stored (distinct, duplicates) / replies (bot messages per chat) / sendChatAction
calls (and the most in one chat in any 4 s) / 429s / p50 and p95 from a burst's last message to the first reply
(the bot's first sendMessage in that chat after it; and, with each reply matched to one burst in order, to a
reply of its own) / time until every chat was answered / database check / for
each kill, the updates handed over before it and whether they were all stored.

`python -m bench --config FILE bench-load …` starts the bot from that config's settings (models, recall, …);
the benchmark still sets the database, the Bot API URL, the allowed users and turns housekeeping off.
ENGRAM_* variables for other sections (e.g. ENGRAM_LLM__MODEL) reach the bot too.

The driver and the metrics take any "running bot" (SubprocessBot, or InProcessBot for a bot built in this
process, as tests/test_bench_load.py does with a scripted model).
"""


from bench.load.bots import FAKE_SERVER, REPO, InProcessBot, RunningBot, SubprocessBot, check_database, fake_telegram
from bench.load.command import add_arguments, bot_environment, main, write_config
from bench.load.plan import CHAT_LINES, GROUP_ID, Plan, Planned, burst_plan, steady_plan
from bench.load.report import max_in_window, report, table
from bench.load.run import Kill, Options, Run, Sent, run_load

__all__ = [
    "CHAT_LINES", "FAKE_SERVER", "GROUP_ID", "REPO", "InProcessBot", "Kill", "Options", "Plan", "Planned", "Run",
    "RunningBot", "Sent", "SubprocessBot", "add_arguments", "bot_environment", "burst_plan", "check_database",
    "fake_telegram", "main", "max_in_window", "report", "run_load", "steady_plan", "table", "write_config",
]
