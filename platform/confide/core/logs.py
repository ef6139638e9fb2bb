"""Structured JSON logs. They carry no personal data: no IPs, emails or message text (uvicorn's access log is off)."""

from __future__ import annotations

import json
import logging
import sys

# Their debug output can carry query parameters or URLs with personal data; keep them at WARNING.
# (httpx2, the openai client's HTTP library, logs every request to the LLM at INFO.)
QUIET_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool", "httpx", "httpx2", "httpcore", "openai", "presidio-analyzer")

# uvicorn logs every websocket handshake on "uvicorn.error" with the client's address and port
# ('%s - "WebSocket %s" [accepted]'), and the websockets library each connection opened, refused and
# closed: an IP address, and a line per visitor.
CONNECTION_LINES = ("connection open", "connection closed", "connection rejected (%d %s)", "HTTP response sent (%d %s)")


class DropConnectionLines(logging.Filter):
    """Drops uvicorn's per-connection websocket lines; its start, stop and error lines pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        return not (isinstance(message, str) and (message.startswith('%s - "WebSocket ') or message in CONNECTION_LINES))

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
    server.filters[:] = [f for f in server.filters if not isinstance(f, DropConnectionLines)]
    server.addFilter(DropConnectionLines())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
