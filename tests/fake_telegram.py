"""A fake Telegram Bot API server for end-to-end tests (aiohttp on 127.0.0.1, a random port).

The bot under test is the real PTB Application with `base_url` pointed here, so every call goes through PTB's
HTTP stack. The fake keeps the state the bot can see (its messages and their current text), records every call,
checks parse_mode HTML the way Telegram does (unknown or unbalanced tags, stray `<` or `&`, the 4096-character
limit), and can fail calls on demand (429 with retry_after, 400 errors).

Updates follow Telegram's getUpdates semantics: getUpdates(offset=N) confirms every update with id < N for good;
an update not confirmed is handed over again by the next getUpdates (also to a restarted bot asking with no
offset or an old one), a confirmed one never again; a negative offset keeps only the last -N; deleteWebhook with
drop_pending_updates forgets what is pending; a newer getUpdates ends a pending older one with 409 Conflict.

With `limits` (or `enforce(Limits())`) it also enforces Telegram's flood limits with 429 + retry_after: see
Limits. Counters for benchmarks: calls by method and chat (`counts`), 429s sent (`too_many`, `limited`), when each
update was first handed over to a connected client (`handed_over`) and how often (`deliveries`), when each bot
message was first sent (`sent_at`).

Tests push updates with `text`, `edit`, `photo`, `press` … and wait for the bot's calls with `wait_for`.
bench/load/ (`./engram bench-load`) loads this module by path to drive the real bot under load.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:TEST-abcdefghijklmnopqrstuvwxyz012345"
BOT = {"id": 999000111, "is_bot": True, "first_name": "Engram", "username": "engram_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": True, "supports_inline_queries": False}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote", "tg-emoji"}
JSON_FIELDS = {"reply_markup", "commands", "reply_parameters", "entities", "allowed_updates", "caption_entities",
               "link_preview_options", "scope"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "message_thread_id"}
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?)*)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

# What Telegram's flood limits count: calls that put a message in a chat or change one. Chat actions ("typing…")
# are not messages: the Bot FAQ gives no limit for them, so they are counted (`counts`) but never refused.
MESSAGE_METHODS = frozenset({
    "sendMessage", "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
    "sendPhoto", "sendDocument", "sendAudio", "sendVoice", "sendVideo", "sendAnimation", "sendVideoNote",
    "sendSticker", "sendMediaGroup", "sendLocation", "sendContact", "sendPoll", "sendDice", "copyMessage",
    "forwardMessage",
})


@dataclass
class Limits:
    """Telegram's flood limits, as its Bot FAQ states them ("My bot is hitting limits, how do I avoid this?"):
    in one chat avoid more than about one message per second (short bursts may pass), in a group no more than
    20 messages per minute, and about 30 messages per second overall. Modelled as token buckets: a call that
    finds a bucket empty gets HTTP 429 with parameters.retry_after (whole seconds, as Telegram sends it) and
    takes no token. Edits count as messages (Telegram answers fast edits with 429 too); chat actions do not
    (see MESSAGE_METHODS)."""

    per_chat: float = 1.0  # messages per second in one chat
    per_chat_burst: float = 3.0  # how many may come at once before that rate applies
    per_group_minute: float = 20.0  # messages per minute in a group or supergroup (chat id < 0)
    overall: float = 30.0  # messages per second over all chats
    overall_burst: float = 30.0
    methods: frozenset[str] = MESSAGE_METHODS


class _Bucket:
    def __init__(self, rate: float, capacity: float):
        self.rate, self.capacity = rate, capacity
        self.tokens, self.at = capacity, time.monotonic()

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class _Superseded(Exception):
    """A pending getUpdates was ended by a newer one."""


def blank_png() -> bytes:
    """A 90x90 white PNG: the file of a photo that has no text in it."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (90, 90), (255, 255, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def _gone(request: web.Request) -> bool:
    """The client that sent this request has disconnected (a cancelled or killed poller)."""
    return request.transport is None or request.transport.is_closing()


class ApiError(Exception):
    def __init__(self, description: str, code: int = 400):
        super().__init__(description)
        self.description, self.code = description, code


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True
    result: Any = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200

    @property
    def chat_id(self) -> int | None:
        return self.params.get("chat_id")


def visible_html(text: str) -> str:
    """The text Telegram would show for parse_mode HTML, or ApiError as Telegram words it."""
    out, stack, pos = [], [], 0
    while pos < len(text):
        ch = text[pos]
        if ch == "<":
            match = _TAG.match(text, pos)
            if not match:
                raise ApiError(f"Bad Request: can't parse entities: Unexpected character '<' at byte offset {pos}")
            closing, name = match.group(1), match.group(2).lower()
            if name not in ALLOWED_TAGS:
                raise ApiError("Bad Request: can't parse entities: "
                               f'Unsupported start tag "{name}" at byte offset {pos}')
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(f'Bad Request: can\'t parse entities: Unmatched end tag at byte offset {pos}, '
                                   f'expected "</{stack[-1] if stack else ""}>", found "</{name}>"')
                stack.pop()
            else:
                stack.append(name)
            pos = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, pos)
            if not match:
                raise ApiError(f"Bad Request: can't parse entities: Unexpected character '&' at byte offset {pos}")
            out.append(html.unescape(match.group(0)))
            pos = match.end()
        else:
            out.append(ch)
            pos += 1
    if stack:
        raise ApiError("Bad Request: can't parse entities: "
                       f"Can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    def __init__(self, token: str = TOKEN, limits: Limits | None = None):
        self.token = token
        self.bot = dict(BOT)
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self.messages: dict[tuple[int, int], dict] = {}  # what each chat shows, the bot's messages and users'
        self.raw: dict[tuple[int, int], tuple[str, str | None]] = {}  # bot messages: (text as sent, parse_mode)
        self.documents: list[dict] = []
        self.files: dict[str, bytes] = {}  # file_id -> content of documents users sent (getFile, then download)
        self.file_sizes: dict[str, int] = {}  # file_id -> the size a document claims, if not its content's
        self.downloads: list[str] = []  # file paths downloaded
        self.photos: list[dict] = []  # sendPhoto: chat_id, content (bytes), caption
        self.commands: list[dict] = []
        self.commands_by_language: dict[str, list[dict]] = {}
        self.chats: dict[int, dict] = {}
        self._failures: list[dict] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._message_ids: dict[int, itertools.count] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        # getUpdates: every update below confirmed_below is confirmed; only the newest long poll is served
        self.confirmed_below = 0
        self.polls = 0  # getUpdates requests received (counted when they arrive, before any long poll)
        # counters
        self.counts: Counter[tuple[str, int | None]] = Counter()  # calls by (method, chat_id)
        self.too_many: Counter[tuple[str, int | None]] = Counter()  # 429s sent (limits or injected)
        self.limited: Counter[tuple[str, int | None]] = Counter()  # 429s sent because of `limits`
        self.handed_over: dict[int, float] = {}  # update_id -> when first handed to a connected client
        self.deliveries: Counter[int] = Counter()  # update_id -> how many times handed over
        self.sent_at: dict[tuple[int, int], float] = {}  # a bot message (chat, id) -> when sendMessage made it
        self.limits: Limits | None = None
        self.file_limit = 20 * 1024 * 1024  # getFile refuses bigger files, as the public Bot API does
        self._buckets: dict[object, _Bucket] = {}
        if limits:
            self.enforce(limits)

    # ----- server lifecycle ------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ----- failures on demand ----------------------------------------------------------------------------------
    def fail(self, method: str, *, status: int = 400, description: str = "Bad Request: injected",
             retry_after: int | None = None, times: int = 1, when: Callable[[dict], bool] | None = None) -> None:
        """The next `times` calls of `method` (matching `when(params)`) fail with this error."""
        self._failures.append({"method": method, "status": status, "description": description,
                               "retry_after": retry_after, "times": times, "when": when})

    def flood(self, method: str, retry_after: int = 1, times: int = 1, when=None) -> None:
        self.fail(method, status=429, description=f"Too Many Requests: retry after {retry_after}",
                  retry_after=retry_after, times=times, when=when)

    def enforce(self, limits: Limits | None) -> None:
        """Enforce Telegram's flood limits from now on (None: stop enforcing)."""
        self.limits = limits
        self._buckets = {}

    def _flood_wait(self, method: str, params: dict) -> int:
        """0 if the call is within the limits (its tokens are taken), else the retry_after to answer with."""
        limits = self.limits
        if limits is None or method not in limits.methods:
            return 0
        chat = params.get("chat_id")
        keys: list[tuple[object, float, float]] = [("all", limits.overall, limits.overall_burst)]
        if isinstance(chat, int):
            keys.append((("chat", chat), limits.per_chat, limits.per_chat_burst))
            if chat < 0:
                keys.append((("group", chat), limits.per_group_minute / 60, limits.per_group_minute))
        buckets = [self._buckets.setdefault(key, _Bucket(rate, burst)) for key, rate, burst in keys]
        now = time.monotonic()
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        return 0

    def _injected(self, method: str, params: dict) -> dict | None:
        for failure in self._failures:
            wanted = not failure["when"] or failure["when"](params)
            if failure["method"] == method and failure["times"] > 0 and wanted:
                failure["times"] -= 1
                return failure
        return None

    # ----- HTTP ------------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        method = request.match_info["method"]
        try:
            params, files = await self._params(request)
        except ConnectionResetError:  # the client went away mid-request (a killed bot): nobody to answer
            return web.Response(status=499)
        call = Call(method, params, time.monotonic(), files=files)
        failure = self._injected(method, params)
        if failure is None and (wait := self._flood_wait(method, params)):
            self.limited[(method, call.chat_id)] += 1
            failure = {"status": 429, "description": f"Too Many Requests: retry after {wait}", "retry_after": wait}
        if failure:
            call.ok, call.status = False, failure["status"]
            await self._record(call)
            body = {"ok": False, "error_code": failure["status"], "description": failure["description"]}
            if failure["retry_after"] is not None:
                body["parameters"] = {"retry_after": failure["retry_after"]}
            return web.json_response(body, status=failure["status"])
        handler = getattr(self, f"api_{method}", None)
        try:
            if handler is None:
                raise ApiError(f"Bad Request: method {method} is not implemented by the fake server")
            try:
                call.result = await handler(params, files)
            except _Superseded:  # only a poller still listening hears of the conflict
                if _gone(request):
                    call.result = []
                else:
                    raise ApiError(CONFLICT, 409) from None
        except ApiError as exc:
            call.ok, call.status = False, exc.code
            await self._record(call)
            return web.json_response({"ok": False, "error_code": exc.code, "description": exc.description},
                                     status=exc.code)
        if method == "getUpdates" and not _gone(request):
            now = time.monotonic()  # handed over only if someone is still there to read it
            for update in call.result:
                self.handed_over.setdefault(update["update_id"], now)
                self.deliveries[update["update_id"]] += 1
        await self._record(call)
        return web.json_response({"ok": True, "result": call.result})

    async def _params(self, request: web.Request) -> tuple[dict, dict]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
        for key, value in list(params.items()):
            if key in JSON_FIELDS and isinstance(value, str):
                params[key] = json.loads(value)
            elif key in INT_FIELDS and isinstance(value, str):
                params[key] = int(value)
            elif key == "timeout" and isinstance(value, str):
                params[key] = float(value)
        return params, files

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        self.counts[(call.method, call.chat_id)] += 1
        if call.status == 429:
            self.too_many[(call.method, call.chat_id)] += 1
        async with self._changed:
            self._changed.notify_all()

    # ----- Bot API methods -------------------------------------------------------------------------------------
    async def api_getMe(self, params, files):
        return self.bot

    async def api_deleteWebhook(self, params, files):
        if params.get("drop_pending_updates") in (True, "true", "True", "1", 1):
            self._confirm(self.next_update_id())
        return True

    async def api_setWebhook(self, params, files):
        return True

    async def api_setMyCommands(self, params, files):
        if params.get("language_code"):  # the menu users with that Telegram language see
            self.commands_by_language[params["language_code"]] = params["commands"]
        else:
            self.commands = params["commands"]
        return True

    async def api_getMyCommands(self, params, files):
        return self.commands

    async def api_sendChatAction(self, params, files):
        return True

    async def api_answerCallbackQuery(self, params, files):
        return True

    async def api_close(self, params, files):
        return True

    async def api_getUpdates(self, params, files):
        self._confirm(params.get("offset"))
        self.polls += 1
        mine = self.polls
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30.0)
        async with self._changed:
            self._changed.notify_all()  # a pending older long poll ends (409), as on Telegram
            while not self.updates and not self._closing and mine == self.polls and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        if mine != self.polls:
            raise _Superseded
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        return self.updates[:limit]

    def _confirm(self, offset: int | None) -> None:
        """getUpdates(offset=N): N > 0 confirms every update below N; N < 0 keeps only the last -N pending."""
        if not offset:  # None or 0: no offset, nothing confirmed
            return
        if offset < 0:
            kept = self.updates[offset:]
            offset = kept[0]["update_id"] if kept else self.next_update_id()
        self.confirmed_below = max(self.confirmed_below, offset)
        self.updates = [u for u in self.updates if u["update_id"] >= self.confirmed_below]

    def next_update_id(self) -> int:
        """The id the next pushed update will get."""
        return self._last_update_id + 1

    async def api_sendMessage(self, params, files):
        text = self._check_text(params.get("text", ""), params.get("parse_mode"))
        message = self._new_message(params["chat_id"], self.bot, text=text)
        if reply := params.get("reply_parameters"):
            replied = self.messages.get((params["chat_id"], reply["message_id"]))
            if replied:
                message["reply_to_message"] = replied
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        key = (message["chat"]["id"], message["message_id"])
        self.raw[key] = (params.get("text", ""), params.get("parse_mode"))
        self.sent_at[key] = time.monotonic()
        return message

    async def api_editMessageText(self, params, files):
        key = (params["chat_id"], params["message_id"])
        message = self.messages.get(key)
        if message is None or message["from"]["id"] != self.bot["id"]:
            raise ApiError("Bad Request: message to edit not found")
        text = self._check_text(params.get("text", ""), params.get("parse_mode"))
        markup = params.get("reply_markup")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError("Bad Request: message is not modified: specified new message content and reply markup "
                           "are exactly the same as a current content and reply markup of the message")
        message = {**message, "text": text, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self.messages[key] = message
        self.raw[key] = (params.get("text", ""), params.get("parse_mode"))
        return message

    async def api_editMessageReplyMarkup(self, params, files):
        key = (params["chat_id"], params["message_id"])
        message = self.messages.get(key)
        if message is None or message["from"]["id"] != self.bot["id"]:
            raise ApiError("Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if markup == message.get("reply_markup"):
            raise ApiError("Bad Request: message is not modified")
        message = {**message, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self.messages[key] = message
        return message

    async def api_sendDocument(self, params, files):
        if "document" not in files:
            raise ApiError("Bad Request: there is no document in the request")
        filename, content = files["document"]
        caption = self._check_text(params.get("caption", ""), params.get("parse_mode"), allow_empty=True)
        message = self._new_message(params["chat_id"], self.bot, caption=caption or None,
                                    document={"file_id": f"doc{next(self._ids)}", "file_unique_id": "u",
                                              "file_name": filename})
        self.documents.append({"chat_id": params["chat_id"], "filename": filename, "content": content,
                               "caption": caption})
        return message

    async def api_getFile(self, params, files):
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            raise ApiError("Bad Request: invalid file_id")
        size = self.file_sizes.get(file_id, len(self.files[file_id]))
        if size > self.file_limit:
            raise ApiError("Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size,
                "file_path": f"documents/{file_id}.json"}

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the content of a file getFile has described."""
        path = request.match_info["path"]
        file_id = path.removeprefix("documents/").removesuffix(".json")
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(path)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")
    async def api_sendPhoto(self, params, files):
        if "photo" not in files:
            raise ApiError("Bad Request: there is no photo in the request")
        _filename, content = files["photo"]
        caption = self._check_text(params.get("caption", ""), params.get("parse_mode"), allow_empty=True)
        if utf16_len(caption) > 1024:
            raise ApiError("Bad Request: message caption is too long")
        if not content.startswith(b"\x89PNG") and not content.startswith(b"\xff\xd8"):
            raise ApiError("Bad Request: IMAGE_PROCESS_FAILED")
        message = self._new_message(params["chat_id"], self.bot, caption=caption or None,
                                    photo=[{"file_id": f"photo{next(self._ids)}", "file_unique_id": "p",
                                            "width": 90, "height": 62}])
        self.photos.append({"chat_id": params["chat_id"], "content": content, "caption": caption})
        return message

    def _check_text(self, text: str, parse_mode: str | None, allow_empty: bool = False) -> str:
        if parse_mode not in (None, "", "HTML"):
            raise ApiError(f"Bad Request: the fake server only checks parse_mode HTML, not {parse_mode}")
        shown = visible_html(text) if parse_mode == "HTML" else text
        if not shown.strip() and not allow_empty:
            raise ApiError("Bad Request: message text is empty")
        if utf16_len(shown) > 4096:
            raise ApiError("Bad Request: message is too long")
        return shown

    # ----- building updates ------------------------------------------------------------------------------------
    def chat(self, chat_id: int) -> dict:
        if chat_id not in self.chats:
            self.chats[chat_id] = ({"id": chat_id, "type": "private", "first_name": f"User{chat_id}"} if chat_id > 0
                                   else {"id": chat_id, "type": "group", "title": f"Group {chat_id}"})
        return self.chats[chat_id]

    @staticmethod
    def user(user_id: int, first_name: str | None = None, language_code: str | None = None) -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        return {**user, "language_code": language_code} if language_code else user

    def _new_message(self, chat_id: int, sender: dict, **fields) -> dict:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = {"message_id": next(counter), "date": int(time.time()), "chat": self.chat(chat_id),
                   "from": sender, **{k: v for k, v in fields.items() if v is not None}}
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def push(self, **update) -> dict:
        update = {"update_id": next(self._update_ids), **update}
        self._last_update_id = update["update_id"]
        self.updates.append(update)
        async with self._changed:
            self._changed.notify_all()
        return update

    def _entities(self, text: str) -> list[dict]:
        entities = []
        if command := re.match(r"/\w+(@\w+)?", text):
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
        for mention in re.finditer(r"(?<![\w/])@\w+", text):
            entities.append({"type": "mention", "offset": utf16_len(text[: mention.start()]),
                             "length": utf16_len(mention.group(0))})
        return entities

    async def text(self, chat_id: int, text: str, user_id: int | None = None, name: str | None = None,
                   reply_to: int | None = None, language_code: str | None = None, **fields) -> dict:
        """A user sends a text message (in a private chat the user is the chat); language_code is their
        Telegram app's language."""
        user = self.user(user_id or chat_id, name, language_code)
        extra = {"entities": self._entities(text)} if self._entities(text) else {}
        if reply_to is not None:
            extra["reply_to_message"] = self.messages[(chat_id, reply_to)]
        message = self._new_message(chat_id, user, text=text, **extra, **fields)
        await self.push(message=message)
        return message

    async def edit(self, chat_id: int, message_id: int, text: str) -> dict:
        original = self.messages[(chat_id, message_id)]
        edited = {**original, "text": text, "edit_date": int(time.time())}
        self.messages[(chat_id, message_id)] = edited
        await self.push(edited_message=edited)
        return edited

    async def photo(self, chat_id: int, caption: str, user_id: int | None = None, **fields) -> dict:
        """A user sends a photo with a caption; its file is a blank picture (no text in it to read)."""
        file_id = f"p{next(self._ids)}"
        self.files[file_id] = blank_png()
        photo = [{"file_id": file_id, "file_unique_id": "pu", "width": 90, "height": 90}]
        message = self._new_message(chat_id, self.user(user_id or chat_id), photo=photo, caption=caption, **fields)
        await self.push(message=message)
        return message

    async def document(self, chat_id: int, content: bytes, file_name: str = "result.json", caption: str | None = None,
                       user_id: int | None = None, file_size: int | None = None, reply_to: int | None = None,
                       mime_type: str = "application/json") -> dict:
        """A user sends a file (`file_size` may claim another size than the content's, as for a huge file)."""
        file_id = f"f{next(self._ids)}"
        self.files[file_id] = content
        if file_size is not None:
            self.file_sizes[file_id] = file_size
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                    "mime_type": mime_type, "file_size": len(content) if file_size is None else file_size}
        extra: dict = {}
        if caption:
            extra["caption"] = caption
            if entities := self._entities(caption):
                extra["caption_entities"] = entities
        if reply_to is not None:
            extra["reply_to_message"] = self.messages[(chat_id, reply_to)]
        message = self._new_message(chat_id, self.user(user_id or chat_id), document=document, **extra)
        await self.push(message=message)
        return message

    async def voice(self, chat_id: int, content: bytes, duration: int, kind: str = "voice",
                    user_id: int | None = None, reply_to: int | None = None, caption: str | None = None,
                    file_size: int | None = None, mime_type: str = "audio/ogg", file_name: str | None = None) -> dict:
        """A user sends a recording: a voice message, a video note or an audio file (`kind`), its file served by
        getFile and the file URL as Telegram does (`file_size` may claim another size than the content's)."""
        file_id = f"v{next(self._ids)}"
        self.files[file_id] = content
        if file_size is not None:
            self.file_sizes[file_id] = file_size
        attachment = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration,
                      "file_size": len(content) if file_size is None else file_size}
        if kind == "video_note":
            attachment["length"] = 240
        else:
            attachment["mime_type"] = mime_type
        if file_name:
            attachment["file_name"] = file_name
        extra: dict = {}
        if caption:
            extra["caption"] = caption
        if reply_to is not None:
            extra["reply_to_message"] = self.messages[(chat_id, reply_to)]
        message = self._new_message(chat_id, self.user(user_id or chat_id), **{kind: attachment}, **extra)
        await self.push(message=message)
        return message

    async def picture(self, chat_id: int, content: bytes, caption: str | None = None,
                      user_id: int | None = None) -> dict:
        """A user sends a photo whose file (`content`, as Telegram serves its largest size) getFile hands over."""
        file_id = f"p{next(self._ids)}"
        self.files[file_id] = content
        photo = [{"file_id": f"{file_id}s", "file_unique_id": "ps", "width": 90, "height": 90},
                 {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600,
                  "file_size": len(content)}]
        message = self._new_message(chat_id, self.user(user_id or chat_id), photo=photo, caption=caption)
        await self.push(message=message)
        return message

    async def forwarded(self, chat_id: int, text: str, origin_user: dict, user_id: int | None = None) -> dict:
        origin = {"type": "user", "date": int(time.time()) - 3600, "sender_user": origin_user}
        message = self._new_message(chat_id, self.user(user_id or chat_id), text=text, forward_origin=origin)
        await self.push(message=message)
        return message

    async def press(self, chat_id: int, message_id: int, data: str, user_id: int | None = None) -> dict:
        """A user presses an inline button of one of the bot's messages."""
        query = {"id": str(next(self._ids)), "from": self.user(user_id or chat_id), "chat_instance": "fake",
                 "message": self.messages[(chat_id, message_id)], "data": data}
        await self.push(callback_query=query)
        return query

    # ----- what the bot did ------------------------------------------------------------------------------------
    def mark(self) -> int:
        """A position in the call log: pass it as `since` to wait only for later calls."""
        return len(self.calls)

    async def wait_for(self, predicate: Callable[[Call], bool], since: int = 0, timeout: float = 15.0) -> Call:
        """The first call after `since` that satisfies the predicate; TimeoutError if none comes in time."""
        async def scan() -> Call:
            index = since
            async with self._changed:
                while True:
                    for call in self.calls[index:]:
                        if predicate(call):
                            return call
                    index = len(self.calls)
                    await self._changed.wait()
        return await asyncio.wait_for(scan(), timeout)

    async def wait_for_method(self, method: str, chat_id: int | None = None, since: int = 0,
                              timeout: float = 15.0) -> Call:
        return await self.wait_for(
            lambda c: c.method == method and c.ok and (chat_id is None or c.chat_id == chat_id), since, timeout)

    def bot_messages(self, chat_id: int) -> list[dict]:
        """The bot's messages in a chat as they look now, oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id and m["from"]["id"] == self.bot["id"]]

    def calls_of(self, method: str, chat_id: int | None = None, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def errors(self, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if not c.ok]

    def sent_times(self, chat_id: int) -> list[float]:
        """When the bot's messages in a chat were first sent (sendMessage accepted), oldest first."""
        return sorted(at for (chat, _), at in self.sent_at.items() if chat == chat_id)

    def count(self, method: str, chat_id: int | None = None) -> int:
        """How many calls of a method (in one chat, or in all) the server received, refused ones included."""
        if chat_id is not None:
            return self.counts[(method, chat_id)]
        return sum(n for (m, _), n in self.counts.items() if m == method)
