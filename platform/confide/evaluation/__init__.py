"""Evaluation: per-conversation metrics, daily aggregates and reports, CSAT and resolution, staff
annotations, and webhooks to the tenant's own systems. Measures avatars and conversations, never people."""
