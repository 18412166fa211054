"""Plain-language actions, carried out once for every front end: "remind me in 2 minutes to…", "cancel the bread
reminder", "what reminders do I have?", "forget what I said about the wifi password".

    action = requests.read(text)                       # bot/reply/requests.py: an action, or None (then: a reply)
    if action is not None:
        await requests.keep_request(message)            # the person's words, kept (history, export), not evidence
        done = await requests.carry_out(chat_id, action, created_by=user_id)
        # show done.text; done.forget: ask first (buttons / y/n), then actions.forget; done.reminder: a Cancel button
        await requests.keep_reply(chat_id, message_id, done)

They do what the commands do (/remind, /cancel, /reminders, /forget), on the same code: the ReminderService and
bot/commands/actions.py. What cannot be done (no time understood, nothing matches, nothing to cancel) is said,
with how to do it. The terminal chat (bot/cli/chat.py) and Telegram (handlers/requests.py) call this, and only
render the result; the Assistant, asked by a front end without it, says how instead of "Noted" (bot/reply/plan.py).

Plans become reminders only when asked: `offer(chat_id, text)` finds the plan of a statement
(bot/reminders/plans.py) for the front end to offer; `accept(chat_id, message_id)` (a button) or the words
"remind me" right after (Action.ACCEPT) create it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.commands.actions import ForgetRequest, forget_last_said, forget_request, id_argument
from bot.i18n import N_, _, activate, current, isolate
from bot.reminders import texts
from bot.reminders.parse import USAGE, ParsedReminder, ParseError, detect_natural_request, usage
from bot.reminders.plans import PlanOffer, find_plan
from bot.reminders.service import Listing, ReminderService
from bot.reply.intent import Intent, classify
from bot.reply.requests import ACTION_KIND, LAST_SAID, Action, Request, read_request
from memory import Memory, Message
from memory.reminders import Reminder
from memory.text import content_words

NO_TIME_SAY = N_("I couldn't tell when to remind you. Say when, e.g. “remind me tomorrow at 9 to call Ana”, or use "
                 "/remind <when> <what>:")
NO_TIME = NO_TIME_SAY + "\n" + USAGE.split("\n", 1)[1]  # in English; no_time() in the chat's language


def no_time() -> str:
    return _(NO_TIME_SAY) + "\n" + usage().split("\n", 1)[1]
FORGET_HOW = N_("To forget messages with certain words: /forget <words> (or /forget all); it shows what would go "
                "first.")
CANCEL_HOW = N_("Cancel one with /cancel <id>, or say “cancel the <words> reminder”.")
RECENT_FOR_OFFER = 4  # "remind me" accepts the plan of one of the last messages before it


@dataclass
class ActionReply:
    """What an action did, for a front end to show."""

    request: Request
    text: str  # plain text: what was done, the question to confirm, or why it could not be done and how
    done: bool = True  # False: it could not be done (the text says why and how)
    reminder: Reminder | None = None  # a reminder set: its Cancel button
    listing: Listing | None = None  # reminders listed: their Cancel buttons
    forget: ForgetRequest | None = None  # messages that would go: ask first, then actions.forget


class Requests:
    def __init__(self, memory: Memory, reminders: ReminderService):
        self.memory = memory
        self.reminders = reminders

    @staticmethod
    def read(text: str) -> Request | None:
        return read_request(text)

    async def keep_request(self, message: Message) -> Message:
        """Store the person's request as every message is stored, marked as an action: kept (history, export),
        never recalled as if it were a fact ("Please forget the wifi password" is no password)."""
        meta = {**(message.meta or {}), "kind": ACTION_KIND}
        return await self.memory.messages.remember(Message(
            message.chat_id, message.message_id, message.text, role=message.role, sender_id=message.sender_id,
            sender_name=message.sender_name, created_at=message.created_at, reply_to=message.reply_to, meta=meta))

    async def keep_reply(self, chat_id: int, message_id: int, reply: ActionReply, at: float | None = None) -> None:
        """Store what was shown: a reminder's confirmation as the reminder commands store theirs (the memory knows
        a reminder was set), anything else marked as an action."""
        at = at if at is not None else datetime.now(timezone.utc).timestamp()
        if reply.reminder is not None:
            await self.reminders.remember_confirmation(chat_id, message_id, reply.text, reply.reminder, at)
            return
        await self.memory.messages.remember(Message(chat_id, message_id, reply.text, role="assistant",
                                                    sender_name="Engram", created_at=at, meta={"kind": ACTION_KIND}))

    async def carry_out(self, chat_id: int, request: Request, *, created_by: int | None = None) -> ActionReply:
        if request.kind not in (Action.REMIND, Action.ACCEPT) and request.language not in ("en", current()):
            await self._answer_in(chat_id, request.language)  # "отмени напоминание": answered in Russian
        if request.kind is Action.REMIND:
            return await self._remind(chat_id, request, created_by)
        if request.kind is Action.ACCEPT:
            return await self._accept_recent(chat_id, request, created_by)
        if request.kind is Action.LIST:
            listing = await self.reminders.listing(chat_id)
            return ActionReply(request, listing.text(), listing=listing)
        if request.kind is Action.CANCEL:
            return await self._cancel(chat_id, request)
        return await self._forget(chat_id, request, created_by)

    # ----- remind ----------------------------------------------------------------------------------------------
    async def _remind(self, chat_id: int, request: Request, created_by: int | None) -> ActionReply:
        tz = await self.reminders.timezone_for(chat_id)
        # Another language's request is read whole: its own words say which language its time is in.
        said = request.text if request.language != "en" else f"remind me {request.topic}"
        try:
            parsed = await asyncio.to_thread(detect_natural_request, said, tz, self.reminders.clock(),
                                             min_interval=self.reminders.min_interval, lang=current())
        except ParseError as exc:
            return ActionReply(request, str(exc), done=False)
        if parsed is not None and parsed.language != current():
            await self._answer_in(chat_id, parsed.language)
        if parsed is None:
            return ActionReply(request, no_time(), done=False)
        return await self._create(chat_id, request, parsed, created_by)

    async def _answer_in(self, chat_id: int, language: str) -> None:
        """A request's words name its language ("напомни мне" is Russian): unless the chat chose one with
        /language, the confirmation is in it, and so are the chat's later answers (bot/i18n.py)."""
        settings = await self.memory.messages.chat_settings(chat_id)
        if not settings.get("language"):
            activate(language)
            await self.memory.messages.set_chat_setting(chat_id, language_seen=language)

    async def _create(self, chat_id: int, request: Request, parsed: ParsedReminder,
                      created_by: int | None) -> ActionReply:
        reminder = await self.reminders.create(chat_id, created_by, parsed)
        return ActionReply(request, texts.confirmation(reminder, parsed), reminder=reminder)

    # ----- plans offered as reminders -----------------------------------------------------------------------
    async def offer(self, chat_id: int, text: str, said_at: float | None = None) -> PlanOffer | None:
        """The reminder a statement's plan could become (shown as an offer, never set unasked), or None."""
        if classify(text) is not Intent.STATEMENT or read_request(text) is not None:
            return None
        tz = await self.reminders.timezone_for(chat_id)
        now = self.reminders.clock()
        said = datetime.fromtimestamp(said_at, tz=timezone.utc) if said_at is not None else now
        try:
            found = await asyncio.to_thread(find_plan, text, tz, said)
        except ParseError:  # the chat's zone is unknown: no offer
            return None
        return found if found is not None and found.remind_at > now else None

    async def accept(self, chat_id: int, message_id: int, created_by: int | None = None) -> ActionReply:
        """The offer under a statement accepted (Telegram's button): the reminder is set now."""
        request = Request(Action.ACCEPT, "", "")
        said = await self.memory.messages.get(chat_id, message_id)
        found = await self.offer(chat_id, said.text, said.created_at) if said is not None else None
        if found is None:
            return ActionReply(request, _("That time has passed (or the message is gone): no reminder was set. "
                                          "Set one with /remind <when> <what>."), done=False)
        parsed = _parsed(found)
        for reminder in await self.reminders.pending(chat_id):  # the button pressed twice: one reminder
            if reminder.text == parsed.text and abs(reminder.due_at - parsed.due_at.timestamp()) < 1:
                return ActionReply(request, _("Already set: #{id} ({text}).").format(
                    id=reminder.id, text=isolate(reminder.text)), done=False)
        return await self._create(chat_id, request, parsed, created_by)

    async def _accept_recent(self, chat_id: int, request: Request, created_by: int | None) -> ActionReply:
        """"remind me" after a plan: the plan of the latest thing the person said, if it holds one."""
        for message in reversed(await self.memory.messages.recent(chat_id, RECENT_FOR_OFFER)):
            if message.role != "user" or message.kind == ACTION_KIND:
                continue
            found = await self.offer(chat_id, message.text, message.created_at)
            if found is not None:
                return await self._create(chat_id, request, _parsed(found), created_by)
            break
        return ActionReply(request, no_time(), done=False)

    # ----- cancel ----------------------------------------------------------------------------------------------
    async def _cancel(self, chat_id: int, request: Request) -> ActionReply:
        pending = await self.reminders.pending(chat_id)
        if not pending:
            return ActionReply(request, texts.no_pending(), done=False)
        topic = request.topic.strip()
        chosen: list[Reminder]
        if (number := id_argument(topic)) is not None:
            chosen = [r for r in pending if r.id == number]
        elif topic in ("all", "every", "all of them", "everything"):
            chosen = list(pending)
        elif not topic:
            chosen = pending if len(pending) == 1 else []
        else:
            chosen = _best_matches(topic, pending, request.language)
        if not chosen or (len(chosen) > 1 and topic not in ("all", "every", "all of them", "everything")):
            listing = await self.reminders.listing(chat_id)
            why = (_("Which one?") if not topic or chosen
                   else _("No pending reminder matches “{words}”.").format(words=isolate(topic)))
            return ActionReply(request, f"{why}\n{listing.text()}\n{_(CANCEL_HOW)}", done=False, listing=listing)
        lines = []
        for reminder in chosen:
            cancelled = await self.reminders.cancel(chat_id, reminder.id)
            if cancelled is not None:
                lines.append(texts.cancelled_text(cancelled))
        return ActionReply(request, "\n".join(lines) or texts.no_pending(), done=bool(lines))

    # ----- forget ----------------------------------------------------------------------------------------------
    async def _forget(self, chat_id: int, request: Request, sender_id: int | None) -> ActionReply:
        if request.topic == LAST_SAID:  # "forget what I just said"
            found = await forget_last_said(self.memory, chat_id, sender_id)
            if not found.count:
                return ActionReply(request, _("You have not told me anything yet, so there is nothing to forget."),
                                   done=False)
            return ActionReply(request, "", forget=found)
        found = await forget_request(self.memory, chat_id, request.topic)
        if not found.count:
            what = _("This chat's memory is already empty.") if found.everything else _(
                "Nothing in this chat's memory mentions “{words}”, so there is nothing to forget.").format(
                words=isolate(request.topic))
            return ActionReply(request, f"{what}\n{_(FORGET_HOW)}", done=False)
        return ActionReply(request, "", forget=found)


def _parsed(found: PlanOffer) -> ParsedReminder:
    return ParsedReminder(found.remind_at, found.text, None, found.timezone)


def _best_matches(topic: str, pending: list[Reminder], lang: str = "en") -> list[Reminder]:
    """The reminders sharing the most meaningful words with the topic (none if none shares one); both read in the
    request's language ("хлеб" meets "вынуть хлеб")."""
    read_as = None if lang == "en" else lang
    wanted = content_words(topic, lang=read_as)
    shared = [len(wanted & content_words(r.text, lang=read_as)) for r in pending]
    best = max(shared, default=0)
    return [r for r, n in zip(pending, shared) if n and n == best]


def offer_hint(found: PlanOffer) -> str:
    """The terminal's line under an acknowledgement that holds a plan."""
    at = texts.local_time(found.remind_at, found.timezone)
    if found.has_clock:
        return _("(say 'remind me' to get a reminder an hour before: {time})").format(time=at)
    return _("(say 'remind me' to get a reminder that morning: {time})").format(time=at)

