"""Conversations and messages: gap-free per-conversation sequence numbers, replay for resume."""
