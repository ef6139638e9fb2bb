"""Full-text search over message text, one meaning on both databases.

A query is split at whitespace into words (at most MAX_WORDS); every word must occur in one message,
case-insensitively and as whole words; a trailing `*` makes a word a prefix. Private notes are
searched (every caller of the inbox is tenant staff); visible events (handoff, closed, ...) are not,
their text is boilerplate.

- PostgreSQL: a stored generated column `search_vector = to_tsvector('simple', text)` with a GIN index
  (migration c0002), so a message's words are parsed once, when it is written. 'simple' because one
  tenant's conversations are in many languages and a stemmer per language would need the language on
  every message; 'simple' lowercases and stems nothing. Words are parsed by PostgreSQL's own parser on
  both sides, so `hello-world` or `anna@example.com` match as written.
- SQLite: an FTS5 table over chat_message (external content, by rowid) kept in sync by triggers; each
  word is a quoted FTS5 phrase, tokenized like the indexed text (unicode61, diacritics kept).

The two tokenizers differ at the edges: PostgreSQL keeps an e-mail address or URL as one token, so
`anna` finds `anna@example.com` on SQLite but not on PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, column, func, literal_column, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from confide.chats.models import Message

MAX_WORDS = 10
MAX_WORD_CHARS = 64
SEARCHED_KINDS = ("message", "note")

# Search objects created by migration c0002 that are not models: alembic's comparison skips them.
FTS_TABLE = "chat_message_fts"  # and its shadow tables chat_message_fts_data, _idx, _docsize, _config
POSTGRES_COLUMN = "search_vector"
POSTGRES_INDEX = "ix_chat_message_search_vector"

_TOKEN = re.compile(r"[^\W_]+")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """An alembic `include_name` hook: leave the search column and index, the FTS5 table and its shadow tables alone."""
    if not name:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE)
    if type_ == "column":
        return not (name == POSTGRES_COLUMN and (parent_names or {}).get("table_name") == "chat_message")
    return name != POSTGRES_INDEX


async def compact_index(session: AsyncSession) -> bool:
    """SQLite: rewrite the FTS5 index as one segment, which drops the words of deleted and rewritten messages.
    FTS5's 'delete' (the triggers') only marks an entry; its words stay in the index's pages
    (chat_message_fts_data) until a merge happens to rewrite them: no search finds them, yet they are in the
    database file. Erasure and retention run this after deleting messages, and the pages it frees are zeroed
    (PRAGMA secure_delete, core.db). PostgreSQL: nothing to do (index entries go with their rows; VACUUM)."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    await session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))
    return True


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    prefix: bool


def parse(q: str) -> list[Word]:
    """The searchable words of a query; raises ValueError when there are none or too many."""
    words = []
    for raw in q.split():
        prefix = raw.endswith("*")
        word = raw.rstrip("*").lower()
        if not _TOKEN.search(word):
            continue  # punctuation only
        if len(word) > MAX_WORD_CHARS:
            raise ValueError(f"Words are limited to {MAX_WORD_CHARS} characters.")
        words.append(Word(word, prefix))
    if not words:
        raise ValueError("Give at least one word of letters or digits.")
    if len(words) > MAX_WORDS:
        raise ValueError(f"Search for at most {MAX_WORDS} words.")
    return words


def fts5_query(words: list[Word]) -> str:
    """Each word a quoted phrase (FTS5 tokenizes it like the text), all of them required."""
    return " ".join('"' + w.text.replace('"', '""') + '"' + ("*" if w.prefix else "") for w in words)


def _tsquery_prefix(word: Word) -> str:
    tokens = _TOKEN.findall(word.text)
    return " & ".join(f"'{t}'" for t in tokens[:-1]) + (" & " if len(tokens) > 1 else "") + f"'{tokens[-1]}':*"


def message_matches(dialect: str, words: list[Word]) -> ColumnElement[bool]:
    """A condition on chat_message: its text contains every word."""
    if dialect == "postgresql":
        config = literal_column("'simple'::regconfig")
        vector = literal_column(f"{Message.__tablename__}.{POSTGRES_COLUMN}")
        conditions = []
        plain = " ".join(w.text for w in words if not w.prefix)
        if plain:
            conditions.append(vector.op("@@")(func.plainto_tsquery(config, plain)))
        prefixed = [_tsquery_prefix(w) for w in words if w.prefix]
        if prefixed:
            conditions.append(vector.op("@@")(func.to_tsquery(config, " & ".join(prefixed))))
        return and_(*conditions)
    if dialect == "sqlite":
        rowids = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query").bindparams(fts_query=fts5_query(words)).columns(column("rowid"))
        return literal_column("chat_message.rowid").in_(rowids)
    raise NotImplementedError(f"full-text search is not built for {dialect}")
