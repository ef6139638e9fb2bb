"""Confide: a multi-tenant chat-avatar backend with privacy built in."""

__version__ = "0.1.0"
