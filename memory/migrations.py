"""Numbered schema migrations, recorded in the database.

Each migration is a function m<NNN>_<name>(conn). A migration and the record that it ran commit in one
transaction, so a crash leaves the schema at the previous version, never half-way. Add new ones at the end;
never edit one that has shipped.

The vec0 table is not created here: its dimension depends on the embedding model, so memory/vectors.py creates
it when the model is first recorded (see Store.open).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable

from memory.db import transaction


def m001_initial(conn) -> None:
    conn.execute(
        """
        CREATE TABLE messages (
            id          INTEGER PRIMARY KEY,
            chat_id     INTEGER NOT NULL,
            message_id  INTEGER NOT NULL,
            sender_id   INTEGER,
            sender_name TEXT NOT NULL DEFAULT '',
            role        TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            text        TEXT NOT NULL,
            created_at  REAL NOT NULL,
            edited_at   REAL,
            reply_to    INTEGER,
            meta        TEXT,
            UNIQUE (chat_id, message_id)
        )
        """
    )
    conn.execute("CREATE INDEX messages_chat_time ON messages (chat_id, created_at)")
    # External-content FTS5 index over the text and the sender; triggers keep it in step with messages.
    conn.execute(
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            text, sender_name, content='messages', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )
        """
    )
    conn.execute(
        """
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, text, sender_name) VALUES (new.id, new.text, new.sender_name);
        END
        """
    )
    conn.execute(
        """
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text, sender_name)
            VALUES ('delete', old.id, old.text, old.sender_name);
        END
        """
    )
    conn.execute(
        """
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, sender_name ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text, sender_name)
            VALUES ('delete', old.id, old.text, old.sender_name);
            INSERT INTO messages_fts (rowid, text, sender_name) VALUES (new.id, new.text, new.sender_name);
        END
        """
    )
    # Which model made the vectors: one row. A mismatch with the configured model is never mixed silently.
    conn.execute(
        """
        CREATE TABLE embedding_model (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            name       TEXT NOT NULL,
            dim        INTEGER NOT NULL,
            created_at REAL NOT NULL
        )
        """
    )
    # Per-chat settings and state that must survive restarts.
    conn.execute(
        """
        CREATE TABLE chats (
            chat_id       INTEGER PRIMARY KEY,
            timezone      TEXT,
            context_since REAL NOT NULL DEFAULT 0
        )
        """
    )


def m002_reminders(conn) -> None:
    """Reminders (memory/reminders.py). Times are Unix seconds (UTC); `timezone` is the zone the user meant, used
    for wall-clock recurrences. Delivery state machine: pending -> sending (claimed with a token) -> sent, or back
    to pending for the next occurrence of a recurring one; cancelled and failed are final."""
    conn.execute(
        """
        CREATE TABLE reminders (
            id             INTEGER PRIMARY KEY,
            chat_id        INTEGER NOT NULL,
            created_by     INTEGER,
            text           TEXT NOT NULL,
            due_at         REAL NOT NULL,
            recurrence     TEXT,
            timezone       TEXT NOT NULL,
            status         TEXT NOT NULL DEFAULT 'pending'
                           CHECK (status IN ('pending', 'sending', 'sent', 'cancelled', 'failed')),
            created_at     REAL NOT NULL,
            claim_token    TEXT,
            claimed_at     REAL,
            attempts       INTEGER NOT NULL DEFAULT 0,
            deliveries     INTEGER NOT NULL DEFAULT 0,
            last_sent_at   REAL,
            last_message_id INTEGER,
            last_error     TEXT,
            resend_unknown INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    conn.execute("CREATE INDEX reminders_status_due ON reminders (status, due_at)")
    conn.execute("CREATE INDEX reminders_chat_status ON reminders (chat_id, status)")


def m003_chat_scoped_fts(conn) -> None:
    """Put each message's chat in the keyword index, so a search reads one chat's postings, not every chat's.

    The index's content is a view that adds a `chat` token ('chat42', 'chatn1001' for -1001) to every row;
    queries AND it with their words. The column has weight 0 in BM25 ranking, so scores are unchanged.
    """
    for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE messages_fts")
    conn.execute(
        "CREATE VIEW messages_fts_content AS SELECT id, text, sender_name, "
        f"{CHAT_TOKEN_SQL.format(col='chat_id')} AS chat FROM messages"
    )
    conn.execute(
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            text, sender_name, chat, content='messages_fts_content', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )
        """
    )
    conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0, 0.0)')")
    new_row = f"new.id, new.text, new.sender_name, {CHAT_TOKEN_SQL.format(col='new.chat_id')}"
    old_row = f"old.id, old.text, old.sender_name, {CHAT_TOKEN_SQL.format(col='old.chat_id')}"
    conn.execute(
        f"""
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, text, sender_name, chat) VALUES ({new_row});
        END
        """
    )
    conn.execute(
        f"""
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text, sender_name, chat) VALUES ('delete', {old_row});
        END
        """
    )
    conn.execute(
        f"""
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, sender_name ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text, sender_name, chat) VALUES ('delete', {old_row});
            INSERT INTO messages_fts (rowid, text, sender_name, chat) VALUES ({new_row});
        END
        """
    )
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


def m004_intake(conn) -> None:
    """What makes "received means kept" cheap: an inbox of raw updates, and vectors that may follow their message.

    `inbox` holds each update as it was received, written before the sender is told it arrived, and marks it
    handled (its payload dropped) once its handlers have run; whatever is unhandled after a crash is handled
    again at start, and a handled id delivered again is recognised (kept a day). `pending_vectors` lists stored
    messages whose embedding is not written yet (the vector follows from a background queue, so storing a
    message is a few milliseconds); a restart embeds what is listed.
    """
    conn.execute(
        "CREATE TABLE inbox (update_id INTEGER PRIMARY KEY, payload TEXT NOT NULL, received_at REAL NOT NULL, "
        "handled_at REAL)"
    )
    conn.execute("CREATE INDEX inbox_unhandled ON inbox (update_id) WHERE handled_at IS NULL")
    conn.execute("CREATE TABLE pending_vectors (id INTEGER PRIMARY KEY)")
    conn.execute(
        """
        CREATE TRIGGER pending_vectors_delete AFTER DELETE ON messages BEGIN
            DELETE FROM pending_vectors WHERE id = old.id;
        END
        """
    )


def m005_embedding_scheme(conn) -> None:
    """Record how the stored vectors were made (memory/embedded.py EMBEDDING_SCHEME) next to the model that made them.

    A database from before has vectors of the first scheme (each message embedded with the turn before it):
    it is recorded as such, and Store.open re-embeds it in the background (memory/embedded.py Embeddings.check_model).
    """
    conn.execute("CREATE TABLE embedding_scheme (id INTEGER PRIMARY KEY CHECK (id = 1), scheme TEXT NOT NULL)")
    conn.execute("INSERT INTO embedding_scheme (id, scheme) SELECT 1, 'prev-text/v1' FROM embedding_model")


def m006_import_origin(conn) -> None:
    """Find imported messages by where they came from (memory/imports.py): meta `import.source` (the exported chat)
    and `import.id` (its message id there), per chat, so importing the same export again adds nothing."""
    conn.execute(f"CREATE INDEX messages_import_origin ON messages (chat_id, {IMPORT_SOURCE_SQL}, {IMPORT_ID_SQL})")


def m007_acknowledgements(conn) -> None:
    """Mark the acknowledgements older versions stored as plain assistant messages ("Noted: your sister Ana lives
    in Lisbon.", "Noted — I'll remember that.") as what they are (meta "kind": "acknowledgement",
    memory/models.py ACKNOWLEDGEMENT), so an upgraded memory stops recalling, searching and clustering them as if
    they were facts. They stay stored and exported; nothing else changes (the keyword index reads text only)."""
    conn.execute(
        "UPDATE messages SET meta = json_set(coalesce(meta, '{}'), '$.kind', 'acknowledgement') "
        "WHERE role = 'assistant' AND (text GLOB 'Noted: *' OR text = 'Noted — I''ll remember that.') "
        "AND (meta IS NULL OR json_extract(meta, '$.kind') IS NULL)"
    )


def m008_chat_language(conn) -> None:
    """The language a chat is answered in: `language`, chosen with /language (NULL: follow the messages), and
    `language_seen`, the one its messages were last written in (for commands without text, e.g. /reminders)."""
    conn.execute("ALTER TABLE chats ADD COLUMN language TEXT")
    conn.execute("ALTER TABLE chats ADD COLUMN language_seen TEXT")


def m009_message_days(conn) -> None:
    """The calendar days a message speaks of ("dentist on Tuesday at 10", said on a Sunday: that Tuesday), so a
    question about "this week" or "tomorrow" finds plans as well as what was said then. The bot reads the days
    (bot/when/mentions.py) and stores them with the message (meta "days": [[start, end], ...], Unix seconds);
    each span is a row here, found by its chat and start. Messages stored before have no meta "days": the bot reads them
    in the background (Assistant.date_memories), a batch at a time."""
    conn.execute("CREATE TABLE message_days (id INTEGER NOT NULL, chat_id INTEGER NOT NULL, start REAL NOT NULL, "
                 "end REAL NOT NULL)")
    conn.execute("CREATE INDEX message_days_chat_start ON message_days (chat_id, start)")
    conn.execute("CREATE INDEX message_days_id ON message_days (id)")
    conn.execute(
        """
        CREATE TRIGGER message_days_delete AFTER DELETE ON messages BEGIN
            DELETE FROM message_days WHERE id = old.id;
        END
        """
    )




def m010_keyword_terms(conn) -> None:
    """A keyword index for every language (memory/keyword_index.py): the index holds each message's terms as
    memory/text.py computes them in Python (its words, and each one's stem or lemma in the message's language;
    Chinese as pairs of characters), tokenised by unicode61 without Porter, so a Russian word meets another
    inflection of it, a Chinese word is found inside a sentence, and nothing is stemmed as English but English.

    The terms live in a new column `messages.terms` (NULL until computed), written with the text by every writer
    (memory/messages.py: insert and edit); the index `messages_terms` is kept in step with the column by
    triggers. Existing messages are filled in the background (KeywordIndex.fill, started by the memory like the
    re-embed), while search keeps using the old Porter index `messages_fts`; the old index is dropped when the
    last message has its terms. An empty database drops it at once."""
    conn.execute("ALTER TABLE messages ADD COLUMN terms TEXT")
    conn.execute("CREATE INDEX messages_terms_missing ON messages (id) WHERE terms IS NULL")
    conn.execute(
        "CREATE VIEW messages_terms_content AS SELECT id, terms, "
        f"{CHAT_TOKEN_SQL.format(col='chat_id')} AS chat FROM messages"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE messages_terms USING fts5(terms, chat, content='messages_terms_content', "
        f"content_rowid='id', tokenize=\"{TERMS_TOKENIZER}\")"
    )
    new_row = f"new.id, new.terms, {CHAT_TOKEN_SQL.format(col='new.chat_id')}"
    old_row = f"old.id, old.terms, {CHAT_TOKEN_SQL.format(col='old.chat_id')}"
    conn.execute(
        "CREATE TRIGGER messages_terms_insert AFTER INSERT ON messages WHEN new.terms IS NOT NULL BEGIN "
        f"INSERT INTO messages_terms (rowid, terms, chat) VALUES ({new_row}); END"
    )
    conn.execute(
        "CREATE TRIGGER messages_terms_delete AFTER DELETE ON messages WHEN old.terms IS NOT NULL BEGIN "
        f"INSERT INTO messages_terms (messages_terms, rowid, terms, chat) VALUES ('delete', {old_row}); END"
    )
    conn.execute(
        "CREATE TRIGGER messages_terms_update AFTER UPDATE OF terms, chat_id ON messages BEGIN "
        f"INSERT INTO messages_terms (messages_terms, rowid, terms, chat) SELECT 'delete', {old_row} "
        "WHERE old.terms IS NOT NULL; "
        f"INSERT INTO messages_terms (rowid, terms, chat) SELECT {new_row} WHERE new.terms IS NOT NULL; END"
    )
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM messages)").fetchone()[0]:
        drop_porter_index(conn)


def m011_arabic_script_terms(conn) -> None:
    """Persian and Arabic words get their matching forms in the keyword index (memory/text.py
    _arabic_script_forms: Arabic ي ى ك folded to Persian ی ک, endings set off by a zero-width non-joiner dropped;
    a Persian word also without its possessive ending): the messages written in the Arabic script are given no
    terms, so the background fill of m010 (KeywordIndex.fill) computes them again. Until it has, such a message is
    found by its vector only; the fill takes about a second a thousand messages."""
    arabic = re.compile(r"[\u0600-\u06FF]")
    ids = [id_ for id_, text, sender in conn.execute(
        "SELECT id, text, sender_name FROM messages WHERE terms IS NOT NULL") if arabic.search(f"{sender} {text}")]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(f"UPDATE messages SET terms = NULL WHERE id IN ({','.join('?' * len(chunk))})", chunk)


def drop_porter_index(conn) -> None:
    """Drop the Porter keyword index of m003 (its triggers, table and view): every message has its terms."""
    for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    conn.execute("DROP TABLE IF EXISTS messages_fts")
    conn.execute("DROP VIEW IF EXISTS messages_fts_content")


# unicode61 folds Latin diacritics; the vowel signs of Indic scripts (Devanagari's ि, े, ्…) are made part of a
# word (unicode61 would split "कुत्ते" at each of them).
_INDIC_MARKS = "".join(chr(c) for c in range(0x900, 0xE00) if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me"))
TERMS_TOKENIZER = f"unicode61 remove_diacritics 2 tokenchars '{_INDIC_MARKS}'"

# The expressions of m006's index: queries must use them word for word for SQLite to use the index.
IMPORT_SOURCE_SQL = "json_extract(meta, '$.import.source')"
IMPORT_ID_SQL = "json_extract(meta, '$.import.id')"

# SQL for a chat id's token in the keyword index; chat_token() below must give the same.
CHAT_TOKEN_SQL = "'chat' || replace(CAST({col} AS TEXT), '-', 'n')"


def chat_token(chat_id: int) -> str:
    return "chat" + str(int(chat_id)).replace("-", "n")


MIGRATIONS: list[Callable] = [m001_initial, m002_reminders, m003_chat_scoped_fts, m004_intake,
                              m005_embedding_scheme, m006_import_origin, m007_acknowledgements,
                              m008_chat_language, m009_message_days, m010_keyword_terms,
                              m011_arabic_script_terms]


def _ensure_table(conn) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at REAL NOT NULL)"
    )


def applied(conn) -> list[int]:
    _ensure_table(conn)
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn, migrations: list[Callable] | None = None) -> list[str]:
    """Apply every migration not yet recorded; return the names applied."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied(conn))
    ran = []
    for version, fn in enumerate(migrations, start=1):
        if version in done:
            continue
        with transaction(conn):  # the migration and its record commit together, or neither does
            fn(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, fn.__name__, time.time()),
            )
        ran.append(fn.__name__)
    return ran

