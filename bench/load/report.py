"""The figures of a run, and their table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.common import load_average, markdown_table
from bench.load.bots import BOT_ACTIVITY
from bot.commands.views import percentile

if TYPE_CHECKING:
    from bench.load.run import Run

TYPING_WINDOW = 4.0  # seconds: the target is at most one sendChatAction per chat in this window



def max_in_window(times: Sequence[float], window: float) -> int:
    """The most events in any half-open window (t - window, t]."""
    ordered, first, best = sorted(times), 0, 0
    for i, t in enumerate(ordered):
        while ordered[first] <= t - window:
            first += 1
        best = max(best, i - first + 1)
    return best


def report(fake, run: Run) -> dict:
    """The figures of a run (plain data: printed as a table or JSON)."""
    plan, sent = run.plan, run.sent
    keys = {(s.chat_id, s.message_id) for s in sent}
    stored_keys = {k for k in run.stored if k in keys}
    replies = {chat: len(fake.sent_times(chat)) for chat in plan.all_chats}
    actions = {chat: [c.at for c in fake.calls_of("sendChatAction", chat)] for chat in plan.all_chats}

    # (chat, burst) -> when its last message was sent; in the group only bursts that mention the bot count
    addressed = {(s.chat_id, s.burst) for s in sent if s.chat_id != plan.group or s.mention}
    bursts: dict[tuple[int, int], float] = {}
    for s in sent:
        if (s.chat_id, s.burst) in addressed:
            bursts[(s.chat_id, s.burst)] = max(bursts.get((s.chat_id, s.burst), 0.0), s.at)
    latencies, unanswered = [], 0
    for (chat, _), last in bursts.items():
        after = [t for t in fake.sent_times(chat) if t > last]
        if after:
            latencies.append(after[0] - last)
        else:
            unanswered += 1
    # The same, with each reply answering at most one burst (in order): a bot that answers message by message
    # and falls behind has its backlog show here, where "the first reply after" would take an older reply.
    own, without_own = [], 0
    for chat in plan.all_chats:
        replies_in_chat, j = fake.sent_times(chat), 0
        for last in sorted(t for (c, _), t in bursts.items() if c == chat):
            while j < len(replies_in_chat) and replies_in_chat[j] <= last:
                j += 1
            if j < len(replies_in_chat):
                own.append(replies_in_chat[j] - last)
                j += 1
            else:
                without_own += 1
    answered_at = []
    for chat in plan.all_chats:
        ends = [last for (c, _), last in bursts.items() if c == chat]
        after = [t for t in fake.sent_times(chat) if ends and t > max(ends)]
        answered_at.append(after[0] if after else None)
    all_answered = None
    if answered_at and run.sending_ended and all(t is not None for t in answered_at):
        all_answered = max(t for t in answered_at if t is not None) - run.sending_ended
    bot_calls = [c.at for c in fake.calls if c.method in BOT_ACTIVITY]

    kills = []
    for kill in run.kills:
        if not kill.at:
            kills.append({"fraction": kill.fraction, "reached": False})
            continue
        before = {s.update_id: (s.chat_id, s.message_id) for s in sent if s.update_id in kill.handed_over}
        kills.append({
            "fraction": kill.fraction, "reached": True, "stored_at_kill": kill.stored,
            "handed_over_before": len(before),
            "confirmed_before": sum(1 for u in before if u < kill.confirmed_below),
            "of_those_stored_at_end": sum(1 for k in before.values() if k in stored_keys),
            "of_those_lost": sum(1 for k in before.values() if k not in stored_keys),
            "restart_seconds": round(kill.restart_seconds or 0.0, 1),
        })
    too_many: Counter[str] = Counter()
    for (method, _), n in fake.too_many.items():
        too_many[method] += n
    database = run.database
    return {
        "scenario": plan.scenario,
        "private_chats": len(plan.chats),
        "group": plan.group is not None,
        "messages_planned": len(plan.messages),
        "messages_sent": len(sent),
        "stored_distinct": len(stored_keys),
        "stored_duplicates": sum(n - 1 for k, n in run.stored.items() if k in keys),
        "lost": len(keys - stored_keys),
        "bursts": len(bursts),
        "replies": sum(replies.values()),
        "replies_per_chat_min": min(replies.values(), default=0),
        "replies_per_chat_max": max(replies.values(), default=0),
        "replies_per_chat": {str(c): n for c, n in replies.items()},
        "chat_actions": sum(len(v) for v in actions.values()),
        "chat_actions_max_per_chat_4s": max((max_in_window(v, TYPING_WINDOW) for v in actions.values() if v),
                                            default=0),
        "edits": fake.count("editMessageText"),
        "too_many_requests": sum(too_many.values()),
        "too_many_requests_by_method": dict(too_many),
        "limits_enforced": fake.limits is not None,
        "first_reply_p50_s": _round(percentile(latencies, 50)),
        "first_reply_p95_s": _round(percentile(latencies, 95)),
        "first_reply_max_s": _round(max(latencies, default=None)),
        "unanswered_bursts": unanswered,
        "own_reply_p50_s": _round(percentile(own, 50)),
        "own_reply_p95_s": _round(percentile(own, 95)),
        "bursts_without_own_reply": without_own,
        "all_chats_answered_after_s": _round(all_answered),
        "bot_busy_until_s": _round(max(bot_calls) - run.sending_ended if bot_calls and run.sending_ended else None),
        "settled": run.settled_at is not None,
        "sending_seconds": _round(run.sending_ended - run.started if run.sending_ended else None),
        "run_seconds": _round(run.ended - run.started if run.started else None),
        "startup_seconds": _round(run.startup_seconds),
        "redelivered_updates": sum(1 for u, n in fake.deliveries.items() if n > 1),
        "kills": kills,
        "lost_after_kills": sum(k.get("of_those_lost", 0) for k in kills),
        "bot_stop": run.stop,
        "failure": run.failure,
        "database": {key: database.get(key) for key in ("integrity", "keyword_index", "messages", "vectors",
                                                         "keyword_rows", "consistent")},
        "load_average_end": load_average(),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def table(figures: dict) -> str:
    def s(value) -> str:
        return "–" if value is None else f"{value:.1f} s" if isinstance(value, float) else str(value)

    db = figures["database"]
    rows = [
        ["messages sent", f"{figures['messages_sent']} of {figures['messages_planned']} "
                          f"({figures['private_chats']} private chats{' + 1 group' if figures['group'] else ''})"],
        ["stored (distinct chat, message_id)", f"{figures['stored_distinct']}, duplicates "
                                               f"{figures['stored_duplicates']}, lost {figures['lost']}"],
        ["replies sent (bot messages)", f"{figures['replies']} for {figures['bursts']} bursts; per chat "
                                        f"{figures['replies_per_chat_min']}-{figures['replies_per_chat_max']}"],
        ["edits (editMessageText)", figures["edits"]],
        ["sendChatAction calls", f"{figures['chat_actions']}; most in one chat in {TYPING_WINDOW:.0f} s: "
                                 f"{figures['chat_actions_max_per_chat_4s']}"],
        ["429s received" + (" (limits enforced)" if figures["limits_enforced"] else ""),
         f"{figures['too_many_requests']} {figures['too_many_requests_by_method'] or ''}".strip()],
        ["burst's last message → first reply", f"p50 {s(figures['first_reply_p50_s'])}, "
                                               f"p95 {s(figures['first_reply_p95_s'])}, "
                                               f"max {s(figures['first_reply_max_s'])}; "
                                               f"unanswered bursts {figures['unanswered_bursts']}"],
        ["… to a reply of its own (replies matched to bursts in order)",
         f"p50 {s(figures['own_reply_p50_s'])}, p95 {s(figures['own_reply_p95_s'])}; "
         f"bursts without one {figures['bursts_without_own_reply']}"],
        ["every chat answered after the last message", s(figures["all_chats_answered_after_s"])],
        ["bot busy until (after the last message)", f"{s(figures['bot_busy_until_s'])}"
                                                    f"{'' if figures['settled'] else ' (not settled: stopped)'}"],
        ["database check", f"integrity {db.get('integrity')}, messages {db.get('messages')} = vectors "
                           f"{db.get('vectors')} = keyword rows {db.get('keyword_rows')}: "
                           f"{'consistent' if db.get('consistent') else 'NOT consistent'}"],
        ["bot start / stop", f"polling after {s(figures['startup_seconds'])}; {figures['bot_stop']}"],
    ]
    for kill in figures["kills"]:
        if not kill["reached"]:
            rows.append([f"SIGKILL at {kill['fraction']:.0%} stored", "never reached"])
            continue
        rows.append([f"SIGKILL at {kill['fraction']:.0%} stored",
                     f"at {kill['stored_at_kill']} stored; {kill['handed_over_before']} handed over before it "
                     f"({kill['confirmed_before']} confirmed): {kill['of_those_stored_at_end']} stored at the end, "
                     f"{kill['of_those_lost']} lost; polling again after {kill['restart_seconds']} s"])
    if figures["kills"]:
        rows.append(["updates handed over more than once", figures["redelivered_updates"]])
    if figures["failure"]:
        rows.append(["failure", figures["failure"].splitlines()[0]])
    return markdown_table(rows, ["", "figure"], f"bench-load: {figures['scenario']}")
