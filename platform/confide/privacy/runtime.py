"""What the privacy domain runs in the app's lifespan: the purpose gate with its processing-log
writer, the retention job, and the erasure worker."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.core.broker import Broker
from confide.privacy.erasure_worker import ErasureWorker, PassHook
from confide.privacy.gate import PurposeGate, register_gate
from confide.privacy.retention import RetentionJob
from confide.privacy.rights import stop_unlinking
from confide.privacy.instructions import count_changed_providers, record_legacy_providers
from confide.privacy.notices import unstated_recipients
from confide.privacy.subprocessors import register_from_settings, unstated_llm_provider
from confide.settings import Settings
from confide.tenants.closure import announce_closed, finish_closures

log = logging.getLogger("confide.privacy")


def erasure_after_pass(settings: Settings, broker: Broker) -> tuple[PassHook, ...]:
    """What runs after each pass of the erasure worker, in the app and in a worker on its own
    (python -m confide.privacy.erasure_worker): a closed tenant is deleted once its chat data is erased,
    and its closure announced once more, for any node that missed the notice sent when it was accepted."""

    async def announce(tenant_id: str) -> None:
        await announce_closed(broker, tenant_id, this_node=None)

    async def finish_tenant_closures(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        return await finish_closures(sessionmaker, settings=settings, on_closed=announce)

    return (finish_tenant_closures,)


async def _check_llm_authorisations(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Instructions from before the provider was recorded get the current one; tenants who authorised another
    provider than the one configured now are counted in a warning (their avatars answer from their knowledge
    until they authorise this one: Art. 28(2) GDPR)."""
    register = register_from_settings(settings)
    try:
        async with sessionmaker() as session:
            filled = await record_legacy_providers(session, register)
            await session.commit()
            changed = await count_changed_providers(session, register)
    except Exception as exc:  # noqa: BLE001 - the database away: the node starts degraded all the same (/readyz says so)
        # Versions still without a provider count as authorised for the current one until a start that reaches the database.
        log.warning("checking tenants' LLM authorisations failed; tried again at the next start", extra={"error_type": type(exc).__name__})
        return
    if filled:
        log.info("recorded the LLM provider on instructions from before it was kept", extra={"rows": filled})
    if changed:
        log.warning(
            "%d tenant(s) authorised another LLM provider than the one configured now; their avatars answer from their "
            "knowledge until they authorise this one (GET /v1/privacy/subprocessors, then POST …/privacy/instructions)",
            changed,
        )


async def start_privacy(app: FastAPI, settings: Settings) -> None:
    """Call after app.state.engine, app.state.sessionmaker and app.state.services exist."""
    unstated = unstated_llm_provider(settings)
    if unstated:
        log.warning(
            "the LLM endpoint's provider is not a known one: the privacy notice and the sub-processor register say its "
            "location and transfer safeguard are not stated until %s say them",
            " and ".join(unstated),
        )
    for kind, missing in unstated_recipients(settings).items():  # policy III.4: a safeguard for every recipient outside the EU/EEA
        log.warning(
            "the %s provider's location or transfer safeguard is not stated: the privacy notice says so until %s say them",
            kind,
            " and ".join(missing),
        )
    await _check_llm_authorisations(app.state.sessionmaker, settings)
    gate = PurposeGate.for_app(settings, app.state.sessionmaker)
    register_gate(app.state.engine, gate)
    gate.start()
    app.state.purpose_gate = gate
    app.state.retention_job = RetentionJob(app.state.engine, settings)
    if settings.retention_job_enabled:
        app.state.retention_job.start()
    app.state.erasure_worker = ErasureWorker(
        app.state.engine,
        app.state.sessionmaker,
        settings=settings,
        broker=app.state.services.broker,
        outbox_dir=None if settings.smtp_host else settings.resolved_outbox_dir,
        after_pass=erasure_after_pass(settings, app.state.services.broker),
    )
    if settings.erasure_worker_enabled:
        app.state.erasure_worker.start()


async def stop_privacy(app: FastAPI) -> None:
    """Stops the jobs (an erasure batch in flight rolls back and resumes on the next start) and writes
    the processing-log entries still buffered."""
    await app.state.erasure_worker.stop()
    await stop_unlinking(app.state.engine)
    await app.state.retention_job.stop()
    await app.state.purpose_gate.stop()
