"""What the evaluation domain runs in the app's lifespan: the evaluator (metrics on close, outcomes on
rating) and the webhook dispatcher, both subscribed to the domain events; and its retention steps."""

from __future__ import annotations

from fastapi import FastAPI

from confide.core import events
from confide.evaluation.service import Evaluator, expire_questions, expire_score_comments
from confide.evaluation.webhooks import WebhookDispatcher
from confide.privacy.retention import RetentionStep, add_step

add_step(RetentionStep("unanswered questions past the tenant's retention period", expire_questions))
add_step(RetentionStep("score comments of conversations that are gone", expire_score_comments))


def start_evaluation(app: FastAPI) -> None:
    """Call after app.state.services and app.state.sessionmaker exist."""
    services = app.state.services
    evaluator = Evaluator(app.state.sessionmaker)
    services.events.on(events.CONVERSATION_CLOSED, evaluator.on_closed)
    services.events.on(events.TRANSCRIPT_PURGING, evaluator.on_purging)
    services.events.on(events.RATING_RECEIVED, evaluator.on_rating)
    dispatcher = WebhookDispatcher(app.state.sessionmaker, services.settings)
    dispatcher.subscribe(services.events)
    app.state.evaluation = evaluator
    app.state.webhooks = dispatcher


async def stop_evaluation(app: FastAPI) -> None:
    """Stop waiting between webhook retries, let running handlers finish, then close the HTTP client."""
    app.state.webhooks.stop()
    await app.state.services.events.drain()
    await app.state.webhooks.aclose()
