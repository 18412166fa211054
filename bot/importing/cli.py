"""`./engram import FILE [--into CHAT_ID] [--chat NAME_OR_ID …] [--dry-run]`: history into the memory."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

from bot.config import Config, load_config
from bot.importing import formats, views
from bot.importing.run import BATCH, Progress, Summary, import_chats
from bot.services import build_memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="result.json of a Telegram Desktop JSON export (or its folder), or the JSON "
                                     "of Engram's /export")
    parser.add_argument("--into", type=int, metavar="CHAT_ID",
                        help="import into this chat (default: the exported chat's own id)")
    parser.add_argument("--chat", action="append", default=[], metavar="NAME_OR_ID",
                        help="of a whole-account export, import this chat (repeat for more; default: all)")
    parser.add_argument("--dry-run", action="store_true",
                        help="read and count what would be imported; store nothing")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"messages a batch (default {BATCH})")
    parser.add_argument("--media", action="store_true",
                        help="transcribe the voice messages and read the photos whose files the export holds "
                             "(exported with media, beside result.json); slow: up to their length again")


def bot_user_id(config: Config) -> int | None:
    """The bot's own user id, from its token ("123456:AA…"): its messages in an export are its replies."""
    head = config.telegram.token.strip().split(":", 1)[0]
    return int(head) if head.isdigit() else None


def main(args: argparse.Namespace) -> int:
    exported = formats.load(args.file)
    chats = exported.pick(args.chat)
    config = load_config(args.config)
    summary = asyncio.run(_run(config, args, chats))
    print(views.summary_text(summary))
    return 0


async def _run(config: Config, args: argparse.Namespace, chats: list[formats.ChatExport]) -> Summary:
    memory = build_memory(config)
    media = None
    if getattr(args, "media", False):
        from bot.media import build_media

        media = build_media(config)
    await memory.start()
    try:
        return await import_chats(memory, chats, into=args.into, bot_user_id=bot_user_id(config),
                                  dry_run=args.dry_run, batch_size=args.batch, progress=_bar(args.dry_run),
                                  media=media.text_of_file if media else None, media_folder=export_folder(args.file))
    finally:
        await memory.stop()
        if media is not None:
            media.stop()


def export_folder(file: str) -> Path:
    """The folder of an export: where its media files are (paths in result.json are relative to it)."""
    path = Path(file).expanduser()
    return path if path.is_dir() else path.parent


def _bar(dry_run: bool = False) -> Callable[[Progress], None]:
    state: dict = {}
    new = "would_import" if dry_run else "imported"  # a dry run stores nothing: its bar says so

    def report(p: Progress) -> None:
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=p.total, unit="msg", desc="reading (dry run)" if dry_run else "importing",
                                smoothing=0.1)
        bar = state["bar"]
        bar.set_postfix({new: p.imported, "present": p.present}, refresh=False)
        bar.update(p.done - bar.n)
        if p.done >= p.total:
            bar.close()

    return report
