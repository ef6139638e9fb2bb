"""Structured JSON logs. They carry no personal data: no IPs, emails or message text (uvicorn's access log is off)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from typing import Any

# Their debug output can carry query parameters or URLs with personal data; keep them at WARNING.
# (httpx2, the openai client's HTTP library, logs every request to the LLM at INFO; httpcore2 its
# host and response headers at DEBUG.)
QUIET_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool", "httpx", "httpx2", "httpcore", "httpcore2", "openai", "presidio-analyzer")

# uvicorn logs every websocket handshake on "uvicorn.error" with the client's address and port
# ('%s - "WebSocket %s" [accepted]'), and the websockets library each connection opened, refused and
# closed: an IP address, and a line per visitor.
CONNECTION_LINES = ("connection open", "connection closed", "connection rejected (%d %s)", "HTTP response sent (%d %s)")


TRACEBACK_MARKS = ("Traceback (most recent call last)", "Exception Group Traceback")
EXCEPTION_TYPE = re.compile(r"([A-Za-z_][\w.]*)(?::|$)")


def exception_type_of(traceback_text: str) -> str:
    """The type of the exception a formatted traceback ends with ("unknown" if it cannot be told
    for sure): the first unindented line after the last frame, up to its colon. Nothing after the
    type is kept: the message, its further lines and any notes may quote data."""
    lines = traceback_text.splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    for line in lines[frames[-1] + 1 :] if frames else ():
        if line and not line[0].isspace():
            match = EXCEPTION_TYPE.match(line)
            return match.group(1) if match else "unknown"
    return "unknown"


class ServerLines(logging.Filter):
    """On uvicorn's logger: drops its per-connection websocket lines, and turns a traceback logged
    as a message (a failed start-up or shutdown: its text may quote SQL parameters) into the
    exception's type. Its start, stop and error lines pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str):
            return True
        if message.startswith('%s - "WebSocket ') or message in CONNECTION_LINES:
            return False
        if any(mark in message for mark in TRACEBACK_MARKS):
            record.msg, record.args = "the application failed: %s", (exception_type_of(message),)
        return True


# asyncio's own, fixed messages for errors nobody handled; any other (a failed callback's) quotes
# the callback's arguments, which may be data.
LOOP_MESSAGES = frozenset(
    {
        "Task exception was never retrieved",
        "Future exception was never retrieved",
        "Unhandled error in exception handler",
        "Exception in default exception handler",
        "Fatal error on transport",
        "Fatal read error on socket transport",
        "Fatal write error on socket transport",
    }
)


def log_loop_exception(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's handler for errors nobody awaited (a background task that failed): asyncio's
    own puts the exception's text, which may quote SQL parameters or message text, in the line.
    This one logs asyncio's message where it is one of its fixed ones, and the exception's type."""
    error = context.get("exception")
    message = context.get("message", "")
    if message not in LOOP_MESSAGES:
        message = "Exception in callback" if message.startswith("Exception in callback") else "an error"
    logging.getLogger("confide.loop").error("unhandled error in the event loop: %s", message, extra={"error_type": type(error).__name__ if error is not None else None})


_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
    server = logging.getLogger("uvicorn.error")
    server.filters[:] = [f for f in server.filters if not isinstance(f, ServerLines)]
    server.addFilter(ServerLines())
    # The websockets library logs every frame through it at DEBUG: message text, visitor tokens.
    server.setLevel(max(logging.INFO, root.level))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
