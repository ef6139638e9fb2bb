"""`confide serve | migrate | downgrade`: one code path for the embedded defaults and PostgreSQL + Redis."""

from __future__ import annotations

import argparse
import asyncio
import logging

from confide import __version__
from confide.core.logs import configure_logging
from confide.migrate import downgrade, upgrade
from confide.settings import Settings

log = logging.getLogger("confide.cli")


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    asyncio.run(upgrade(settings.resolved_database_url, args.revision))
    log.info("migrations applied", extra={"revision": args.revision})


def cmd_downgrade(settings: Settings, args: argparse.Namespace) -> None:
    asyncio.run(downgrade(settings.resolved_database_url, args.revision))
    log.info("migrations reverted", extra={"revision": args.revision})


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from confide.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    asyncio.run(upgrade(settings.resolved_database_url))
    backend = "postgresql" if not settings.is_sqlite else "sqlite"
    log.info("starting", extra={"database": backend, "broker": "redis" if settings.redis_url else "memory", "port": port})
    app: object = create_app(settings)
    if args.workers > 1:
        app = "confide.app:create_app"  # each worker builds its own app from the same environment
    uvicorn.run(
        app,
        factory=args.workers > 1,
        workers=args.workers,
        host=host,
        port=port,
        access_log=False,  # our own access log keeps IP and time apart from everything else
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        ws_max_size=65536,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="confide", description="Confide chat-avatar platform")
    parser.add_argument("--version", action="version", version=f"confide {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations and run the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (use PostgreSQL and Redis with more than one)")
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="apply migrations (default: every branch to its head)")
    migrate.add_argument("revision", nargs="?", default="heads")
    migrate.set_defaults(func=cmd_migrate)
    down = sub.add_parser("downgrade", help="revert migrations (default: to base)")
    down.add_argument("revision", nargs="?", default="base")
    down.set_defaults(func=cmd_downgrade)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    args.func(settings, args)


if __name__ == "__main__":
    main()
