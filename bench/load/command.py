"""`./engram bench-load`: its arguments, the bot's config and environment, and the run."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import yaml

from bench.common import load_average, say
from bench.load.bots import REPO, SubprocessBot, fake_telegram
from bench.load.plan import Plan, burst_plan, load_texts, steady_plan
from bench.load.report import report, table
from bench.load.run import Options, run_load


def add_arguments(parser) -> None:
    parser.add_argument("--scenario", choices=("burst", "steady"), default="burst")
    parser.add_argument("--chats", type=int, help="private chats (default 3 for burst, 10 for steady)")
    parser.add_argument("--messages", type=int, default=100, help="burst: messages per chat (default 100)")
    parser.add_argument("--burst-seconds", type=float, default=1.0, help="burst: sent within this time (1)")
    parser.add_argument("--rate", type=float, default=1.0, help="steady: messages per second over all chats (1)")
    parser.add_argument("--duration", type=float, default=300.0, help="steady: seconds of sending (300)")
    parser.add_argument("--groups", action="store_true", help="add a group where bursts end with a mention")
    parser.add_argument("--kill-at", default="", help="SIGKILL and restart the bot at these stored fractions, "
                                                      "e.g. 0.1,0.5,0.9")
    parser.add_argument("--enforce-limits", action="store_true",
                        help="the fake answers calls over Telegram's flood limits with 429 + retry_after")
    parser.add_argument("--max-wait", type=float, default=180.0,
                        help="stop the bot this many seconds after the last message if it has not settled (180)")
    parser.add_argument("--settle", type=float, default=6.0, help="quiet seconds that mean the bot is done (6)")
    parser.add_argument("--startup-timeout", type=float, default=600.0, help="seconds for the bot to poll (600)")
    parser.add_argument("--stop-grace", type=float, default=10.0, help="seconds after SIGTERM before SIGKILL (10)")
    parser.add_argument("--data", help="a LoCoMo-format file: its turns are the messages (default: built-in lines)")
    parser.add_argument("--data-dir", help="keep the database and bot.log here (a new folder; default: temporary)")
    parser.add_argument("--model-cache", default=str(REPO / ".cache" / "models"),
                        help="llm.cache_dir for the bot, so the converted model is reused (<repo>/.cache/models)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def plan_from(args) -> Plan:
    texts = load_texts(args.data)
    if args.scenario == "burst":
        return burst_plan(args.chats or 3, args.messages, texts, args.burst_seconds, args.groups)
    return steady_plan(args.chats or 10, args.rate, args.duration, texts, args.groups)


def parse_fractions(text: str) -> list[float]:
    fractions = [float(f) for f in text.split(",") if f.strip()]
    if any(not 0 < f <= 1 for f in fractions):
        raise SystemExit("--kill-at takes fractions in (0, 1], e.g. 0.1,0.5,0.9")
    return fractions


def write_config(folder: Path, base_url: str, plan: Plan, base: dict | None = None) -> Path:
    """A config for the bot under test: its database in `folder`, the fake server, the simulated users allowed,
    no housekeeping jobs. `base` (the user's config) gives everything else (models, recall, …)."""
    config = dict(base or {})
    telegram = {k: v for k, v in (config.get("telegram") or {}).items() if k not in ("token", "webhook")}
    config["storage"] = {"path": str(folder / "engram.db")}
    config["telegram"] = {**telegram, "base_url": base_url, "mode": "polling", "allowed_user_ids": plan.users,
                          "allowed_chat_ids": [plan.group] if plan.group is not None else []}
    config["housekeeping"] = {**(config.get("housekeeping") or {}), "checkpoint_minutes": 0, "backup_dir": ""}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def bot_environment(token: str, model_cache: str | None) -> dict[str, str]:
    """This process's environment for the bot, minus what would override the benchmark's own config."""
    env = {k: v for k, v in os.environ.items()
           if k != "ENGRAM_CONFIG" and not k.startswith(("ENGRAM_STORAGE__", "ENGRAM_TELEGRAM__",
                                                        "ENGRAM_HOUSEKEEPING__"))}
    env["TELEGRAM_BOT_TOKEN"] = token
    if model_cache:
        env["ENGRAM_LLM__CACHE_DIR"] = str(Path(model_cache).resolve())
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("OMP_WAIT_POLICY", "PASSIVE"),
                        ("TOKENIZERS_PARALLELISM", "false"), ("PYTHONUNBUFFERED", "1")):
        env.setdefault(name, value)
    return env


def main(args) -> int:
    plan = plan_from(args)
    kill_at = parse_fractions(args.kill_at)
    base = None
    if getattr(args, "config", None):
        base = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
    if args.data_dir:
        folder = Path(args.data_dir).resolve()
        if (folder / "engram.db").exists():
            raise SystemExit(f"{folder / 'engram.db'} exists: bench-load needs a fresh database (another --data-dir)")
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="engram-load-"))
    options = Options(kill_at=kill_at, max_wait=args.max_wait, settle=args.settle,
                      startup_timeout=args.startup_timeout, stop_grace=args.stop_grace)
    say(f"engram bench-load — {time.strftime('%Y-%m-%d %H:%M')}, load {load_average()}, {os.cpu_count()} CPUs; "
        f"files in {folder}")
    try:
        figures = asyncio.run(_main(plan, folder, base, args, options))
    except asyncio.CancelledError:  # SIGTERM: the bot was stopped on the way out
        say("bench-load: terminated")
        return 143
    finally:
        if not args.data_dir:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures, indent=2) if args.json else table(figures))
    return 0 if not figures["failure"] else 1


async def _main(plan: Plan, folder: Path, base: dict | None, args, options: Options) -> dict:
    module = fake_telegram()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per Bot API call otherwise
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)  # a SIGTERMed benchmark still stops its bot
    limits = module.Limits() if args.enforce_limits else None
    async with module.FakeTelegram(limits=limits) as fake:
        config_path = write_config(folder, fake.base_url, plan, base)
        bot = SubprocessBot(folder / "bot.log")
        run = await run_load(fake, bot, plan, config_path, bot_environment(fake.token, args.model_cache),
                             folder / "engram.db", options)
        return report(fake, run)
