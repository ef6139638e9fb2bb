"""What the evaluation domain runs in the app's lifespan: the evaluator (metrics on close, outcomes on
rating) and the webhook dispatcher, both subscribed to the domain events, with the node's webhook
delivery worker; and its retention steps."""

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
    services.events.on(events.TRANSCRIPT_PURGING, evaluator.on_purging)
    dispatcher = WebhookDispatcher(app.state.sessionmaker, services.settings)
    # The evaluator handles a close and a rating before their webhooks are built, in one handler each.
    dispatcher.subscribe(services.events, after={events.CONVERSATION_CLOSED: evaluator.on_closed, events.RATING_RECEIVED: evaluator.on_rating})
    dispatcher.start()  # sends what is due at once: deliveries left waiting by a node that stopped too
    app.state.evaluation = evaluator
    app.state.webhooks = dispatcher


async def stop_evaluation(app: FastAPI) -> None:
    """Let running handlers finish (their deliveries are written), then stop the webhook worker: attempts
    in flight get a few seconds to finish (then they are cut), and deliveries still waiting stay in the
    database for whichever node runs next."""
    await app.state.services.events.drain()
    await app.state.webhooks.aclose()
