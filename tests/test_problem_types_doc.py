"""docs/problems.md lists every problem type a client can get, over HTTP and in websocket error frames, and
none that the code no longer produces: the types are collected from the code (every ProblemError subclass,
the framework errors' mapping, and the slugs written out where problems and error frames are built), so a
type added, renamed or removed fails here until the page says so."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI

import avatars
import confide
import guidelines
from confide.core import errors
from confide.realtime import protocol

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "problems.md"
SOURCES = [Path(p) for package in (confide, avatars, guidelines) for p in package.__path__]
REALTIME = Path(protocol.__file__).parent
WEBSOCKET_SECTION = "## Websocket error frames"
SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# A documented type: | `slug` | status or close code | title | when | what to do |
ROW = re.compile(r"^\| `([^`]+)` \| ([^|]*) \| ([^|]*) \|", re.MULTILINE)

# Calls that send a websocket error with a literal slug: the position of the slug, and of the close code if any.
FRAME_CALLS = {"error_frame": (0, None), "FrameError": (0, None), "error": (0, None), "Refused": (1, 0), "refuse": (1, 0), "cut": (1, 0)}


def _import_everything() -> None:
    """Every module of the app's packages, so that every ProblemError subclass is defined."""
    for package in (confide, avatars, guidelines):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in info.name:  # Alembic's env.py runs only under `confide migrate`
                importlib.import_module(info.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _trees(*roots: Path) -> Iterator[tuple[Path, ast.AST]]:
    for root in roots:
        for source in sorted(root.rglob("*.py")):
            if "migrations" not in source.parts:
                yield source, ast.parse(source.read_text(), str(source))


def _name(call: ast.Call) -> str | None:
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def http_types() -> dict[str, set[tuple[int | None, str | None]]]:
    """slug → the (status, title) pairs it is answered with (None where the code does not fix one)."""
    _import_everything()
    found: dict[str, set[tuple[int | None, str | None]]] = {}
    for cls in (errors.ProblemError, *_subclasses(errors.ProblemError)):
        found.setdefault(cls.slug, set()).add((cls.status, cls.title))
    for status, (slug, title) in errors._STATUS_SLUGS.items():  # Starlette's HTTPException, by status
        found.setdefault(slug, set()).add((status, title))
    for _, tree in _trees(*SOURCES):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            # problem_type("…") with a literal: a body built by hand (FastAPI's own 422).
            slug = _literal(node.args[0]) if _name(node) == "problem_type" and node.args else None
            # _STATUS_SLUGS.get(status, ("…", "…")): the type of any other HTTPException.
            if _name(node) == "get" and getattr(node.func, "value", None) is not None and getattr(node.func.value, "id", None) == "_STATUS_SLUGS":
                default = node.args[1] if len(node.args) > 1 else None
                if isinstance(default, ast.Tuple):
                    slug = _literal(default.elts[0])
                    found.setdefault(slug or "", set()).add((None, _literal(default.elts[1])))
                    continue
            if slug is not None:
                found.setdefault(slug, set()).add((None, None))
    return found


def websocket_types() -> dict[str, set[int | None]]:
    """slug → the close codes an error frame of it comes with (None: the connection stays open)."""
    found: dict[str, set[int | None]] = {slug: set() for slug in protocol.TITLES}
    for _, tree in _trees(REALTIME):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node) not in FRAME_CALLS:
                continue
            at, code_at = FRAME_CALLS[_name(node)]  # type: ignore[index]
            slug = _literal(node.args[at]) if len(node.args) > at else None
            if slug is None or not SLUG.match(slug):  # a slug passed on (exc.slug), or a log message
                continue
            code = None
            if code_at is not None:
                arg = node.args[code_at]
                assert isinstance(arg, ast.Attribute) and getattr(arg.value, "id", None) == "CloseCode", ast.dump(arg)
                code = int(protocol.CloseCode[arg.attr])
            found.setdefault(slug, set()).add(code)
    return found


def documented() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """The rows of the page's HTTP part and of its websocket part: slug → (status or close code, title)."""
    text = DOC.read_text()
    assert text.count(WEBSOCKET_SECTION) == 1
    parts = []
    for part in text.split(WEBSOCKET_SECTION):
        rows = ROW.findall(part)
        slugs = [slug for slug, _, _ in rows]
        assert len(slugs) == len(set(slugs)), f"listed twice: {sorted(s for s in slugs if slugs.count(s) > 1)}"
        parts.append({slug: (code.strip(), title.strip()) for slug, code, title in rows})
    return parts[0], parts[1]


def test_every_http_problem_type_is_documented():
    code, (doc, _) = http_types(), documented()
    assert {"internal-error", "validation-error", "legal-holds-active", "method-not-allowed", "http-error"} <= set(code)
    missing, stale = sorted(set(code) - set(doc)), sorted(set(doc) - set(code))
    assert not missing, f"problem types missing from docs/problems.md (HTTP): {missing}"
    assert not stale, f"docs/problems.md lists HTTP problem types the code no longer produces: {stale}"
    for slug, answers in code.items():
        status, title = doc[slug]
        for known_status, known_title in answers:
            if known_status is not None:
                assert str(known_status) in status, (slug, known_status, status)
            if known_title is not None:
                assert title == known_title, (slug, known_title, title)


def test_every_websocket_problem_type_is_documented():
    code, (_, doc) = websocket_types(), documented()
    assert {"frame-failed", "hello-expected", "tenant-closed", "rate-limited", "invalid-frame"} <= set(code)
    missing, stale = sorted(set(code) - set(doc)), sorted(set(doc) - set(code))
    assert not missing, f"problem types missing from docs/problems.md (websocket): {missing}"
    assert not stale, f"docs/problems.md lists websocket problem types the code no longer sends: {stale}"
    for slug, close_codes in code.items():
        close, title = doc[slug]
        assert title == protocol.error_frame(slug, "")["problem"]["title"], (slug, title)
        for close_code in close_codes:
            shown = "—" if close_code is None else str(close_code)  # no close code: the connection stays
            assert shown in close, f"{slug}: close code {shown} not in {close!r}"


def test_a_type_on_both_has_one_title():
    """RFC 9457: one title per type, over HTTP and on the sockets alike."""
    http = http_types()
    for slug in set(http) & set(websocket_types()):
        titles = {title for _, title in http[slug] if title} | {protocol.error_frame(slug, "")["problem"]["title"]}
        assert len(titles) == 1, (slug, titles)


def test_the_readme_and_the_api_description_point_to_the_page(app: FastAPI):
    assert "(docs/problems.md)" in (ROOT / "README.md").read_text()
    assert "docs/problems.md" in app.openapi()["info"]["description"]
