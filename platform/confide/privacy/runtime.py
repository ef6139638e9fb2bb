"""What the privacy domain runs in the app's lifespan: the purpose gate with its processing-log
writer, and the retention job."""

from __future__ import annotations

from fastapi import FastAPI

from confide.privacy.gate import PurposeGate, register_gate
from confide.privacy.retention import RetentionJob
from confide.settings import Settings


async def start_privacy(app: FastAPI, settings: Settings) -> None:
    """Call after app.state.engine and app.state.sessionmaker exist."""
    gate = PurposeGate.for_app(settings, app.state.sessionmaker)
    register_gate(app.state.engine, gate)
    gate.start()
    app.state.purpose_gate = gate
    app.state.retention_job = RetentionJob(app.state.engine, settings)
    if settings.retention_job_enabled:
        app.state.retention_job.start()


async def stop_privacy(app: FastAPI) -> None:
    """Stops the job and writes the processing-log entries still buffered."""
    await app.state.retention_job.stop()
    await app.state.purpose_gate.stop()
