"""Importing history: Telegram Desktop's JSON exports (one chat or the whole account) and Engram's own /export.

`formats` reads and recognises a file, `telegram` reads one message of Telegram's format, `run` imports chats
into the memory in batches, `views` words progress and summaries, `cli` is `./engram import`.
"""

from bot.importing.formats import HOW_TO_EXPORT, ChatExport, ExportFile, ImportFileError, load, parse
from bot.importing.run import Progress, Summary, import_chats

__all__ = ["HOW_TO_EXPORT", "ChatExport", "ExportFile", "ImportFileError", "Progress", "Summary", "import_chats",
           "load", "parse"]
