"""`confide serve | demo | migrate | downgrade | retention | closures`: one code path for the embedded defaults and PostgreSQL + Redis."""

from __future__ import annotations

import argparse
import asyncio
import logging

from confide import __version__
from confide.core.logs import configure_logging
from confide.migrate import downgrade, upgrade
from confide.privacy.cli import add_closures_command, add_retention_command
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
        app = "confide.app:create_worker_app"  # each worker sets up logging and builds its own app from the same environment
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
        ws_max_size=settings.websocket_max_size,
    )


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    """`confide serve` with a demo tenant and published avatar (found or created), and the page to chat on."""
    from confide.demo import DEMO_AVATAR, local_base_url, prepare_demo

    host = args.host or settings.host
    port = args.port or settings.port
    asyncio.run(upgrade(settings.resolved_database_url))
    demo = asyncio.run(prepare_demo(settings, host=host, port=port))
    base = local_base_url(host=host, port=port)
    print(
        f"\nConfide demo: open {base}/demo in a browser and chat with {DEMO_AVATAR}.\n"
        f"Its widget snippet, for pages served from {', '.join(demo.allowed_origins)}:\n"
        f'  <script src="{base}/widget.js" data-widget-key="{demo.widget_key}" defer></script>\n',
        flush=True,
    )
    cmd_serve(settings, args)


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
    demo = sub.add_parser("demo", help="like serve, with a demo tenant and avatar; prints the demo page's address")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--workers", type=int, default=1, help="worker processes (use PostgreSQL and Redis with more than one)")
    demo.set_defaults(func=cmd_demo)
    add_retention_command(sub)
    add_closures_command(sub)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    args.func(settings, args)


if __name__ == "__main__":
    main()
