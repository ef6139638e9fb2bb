"""The embeddable widget as a person uses it: a real server, Debian's Chromium driven by Playwright,
a question typed into the chat, the AI disclosure and the answer on screen, and after a reload the same
conversation with its history shown once. Also what `confide demo` serves, and the HTTP side of
/widget.js and /demo.

Chromium is /usr/bin/chromium (`.ci/system-packages` installs it; CONFIDE_TEST_CHROMIUM names another);
Playwright never downloads a browser.
Without it these tests skip, or fail under CONFIDE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from confide.demo import DEMO_AVATAR, ensure_demo
from tests.support.chat import operator, published_avatar
from tests.support.server import free_port
from tests.support.services import unavailable

try:
    from playwright.async_api import BrowserContext, Page, async_playwright, expect
except ImportError:  # reported per test by `browser()`
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = Path(os.environ.get("CONFIDE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000
MARKUP = 'Markup stays text: <b>bold</b> <img src="x" onerror="window.__confideXss = 1">'


@asynccontextmanager
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh profile of its own."""
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (.ci/system-packages installs Debian's chromium)")
    if async_playwright is None:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context
        finally:
            await context.close()


def watch_errors(page: Page) -> list[str]:
    """Script errors of the page: the widget must not throw."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def demo_page(context: BrowserContext, url: str, route: Any = None) -> tuple[Page, "Widget", list[str]]:
    """A new tab on the demo page at `url` (its websocket through `route`, if given), the widget opened; the page,
    the widget and the page's script errors."""
    page = await context.new_page()
    errors = watch_errors(page)
    if route is not None:
        await page.route_web_socket(re.compile(r"/v1/widget/.+/chat$"), route)
    await page.goto(url)
    widget = Widget(page)
    await widget.open()
    return page, widget, errors


class Widget:
    """What a person sees of the widget on a page (Playwright's locators reach into its shadow root)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("#confide-widget")
        self.items = self.root.locator(".log > li")
        self.texts = self.root.locator(".log > li .text")
        self.answers = self.root.locator(".log > li.avatar:not(.streaming) .text")
        self.input = page.get_by_role("textbox", name="Your message")

    async def open(self) -> None:
        await self.page.get_by_role("button", name="Open chat").click()
        await expect(self.root.locator(".panel")).to_be_visible()

    async def say(self, text: str) -> None:
        await self.input.fill(text)
        await self.input.press("Enter")  # the keyboard sends; Shift+Enter would be a new line

    async def settled(self) -> None:
        """Every message sent is acknowledged and no reply is still streaming."""
        await expect(self.root.locator(".log .state")).to_have_count(0)
        await expect(self.root.locator(".log .streaming")).to_have_count(0)

    async def stored(self, widget_key: str) -> dict[str, Any]:
        raw = await self.page.evaluate("key => localStorage.getItem('confide:widget:' + key)", widget_key)
        return json.loads(raw)


# ---- HTTP: the script and the page ----------------------------------------------------------


async def test_widget_script_is_served_cacheable_and_without_cookies(client):
    r = await client.get("/widget.js")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/javascript")
    assert "max-age" in r.headers["cache-control"] and r.headers["etag"]
    assert "set-cookie" not in r.headers
    assert "innerHTML" not in r.text and "document.cookie" not in r.text  # text goes in by textContent; state in localStorage
    again = await client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert (await client.get("/widget.js", params={"v": "2024-06"})).status_code == 200  # cache-busting parameters are fine


async def test_demo_page_embeds_the_given_key_escaped_and_strict(client):
    r = await client.get("/demo", params={"key": "cfw_abc-DEF_123", "language": "de"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert '<script src="/widget.js" data-widget-key="cfw_abc-DEF_123" data-language="de" defer></script>' in r.text
    assert '<html lang="de">' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"] and "set-cookie" not in r.headers
    for bad in ({"key": 'cfw_x"><script>alert(1)</script>'}, {"key": "nokey"}, {"key": "cfw_ok", "language": '"><b>'}):
        r = await client.get("/demo", params=bad)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text


async def test_demo_data_is_created_once_and_found_by_the_demo_page(app, client):
    settings = app.state.settings
    async with app.state.sessionmaker() as session:
        first = await ensure_demo(session, settings, origins=["http://localhost:1111"])
    async with app.state.sessionmaker() as session:
        second = await ensure_demo(session, settings, origins=["http://localhost:2222"])
    assert (second.tenant_id, second.avatar_id, second.widget_key) == (first.tenant_id, first.avatar_id, first.widget_key)
    assert {"http://localhost:1111", "http://localhost:2222"} <= set(second.allowed_origins)
    r = await client.get("/demo")
    assert r.status_code == 200 and f'data-widget-key="{first.widget_key}"' in r.text


# ---- In the browser ---------------------------------------------------------------------------


async def test_a_person_chats_and_the_conversation_resumes_after_a_reload(base, client, factory, tmp_path):
    port = urlsplit(base).port
    origin = f"http://localhost:{port}"  # the API allows plain http only for localhost
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Widget GmbH")
    avatar = await published_avatar(
        client,
        owner,
        tenant_id,
        origins=(origin,),
        entries=(
            (["What are your opening hours?", "When are you open?"], "We are open Monday to Friday, 9 to 17."),
            (["Show me some markup", "markup please"], MARKUP),
        ),
    )
    key = avatar["widget_key"]

    async with browser(tmp_path) as context:
        page, widget, errors = await demo_page(context, f"{origin}/demo?key={key}")

        # The AI disclosure is on screen before anything is asked, and the first message carries it too.
        await expect(page.get_by_role("note")).to_contain_text("AI assistant")
        await expect(widget.answers.first).to_contain_text("AI assistant")
        await expect(widget.answers.first).to_contain_text("Hello, how can I help?")

        await widget.say("When are you open?")
        await expect(widget.answers.nth(1)).to_have_text("We are open Monday to Friday, 9 to 17.")
        await widget.say("markup please")
        await expect(widget.answers.nth(2)).to_have_text(MARKUP)  # shown as text, never as HTML
        await widget.settled()
        assert await widget.root.locator(".log b, .log img").count() == 0
        assert await page.evaluate("window.__confideXss") is None

        before = await widget.texts.all_text_contents()
        assert before[1:] == ["When are you open?", "We are open Monday to Friday, 9 to 17.", "markup please", MARKUP]
        state = await widget.stored(key)
        assert state["conversation_id"].startswith("cnv_") and state["visitor_token"] and state["last_seq"] == 5 and state["outbox"] == []
        assert await context.cookies() == []  # the token lives in localStorage, not in a cookie

        # A reload: the same conversation comes back, its history shown once, and it goes on.
        await page.reload()
        await widget.open()
        await expect(widget.items).to_have_count(5)
        await widget.settled()
        assert await widget.texts.all_text_contents() == before
        await widget.say("When are you open?")
        await expect(widget.answers.nth(3)).to_have_text("We are open Monday to Friday, 9 to 17.")
        await widget.settled()
        await expect(widget.items).to_have_count(7)
        after = await widget.stored(key)
        assert after["conversation_id"] == state["conversation_id"] and after["visitor_token"] == state["visitor_token"] and after["last_seq"] == 7
        assert await context.cookies() == []
        await page.screenshot(path=str(tmp_path / "widget.png"))
        assert errors == []

    r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{state['conversation_id']}/transcript", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert [(m["seq"], m["author"]) for m in r.json()["messages"]] == [
        (1, "avatar"), (2, "visitor"), (3, "avatar"), (4, "visitor"), (5, "avatar"), (6, "visitor"), (7, "avatar"),
    ]


@asynccontextmanager
async def asked_through(tmp_path: Path, origin: str, key: str, route: Any) -> AsyncIterator[tuple[Widget, list[str]]]:
    """The demo page with the widget's websocket through `route`: opened, greeted, asked for the opening
    hours, answered and settled (every message acked, nothing streaming); yields the widget and the page's
    script errors."""
    async with browser(tmp_path) as context:
        page, widget, errors = await demo_page(context, f"{origin}/demo?key={key}", route)
        await expect(widget.answers.first).to_contain_text("AI assistant")
        await widget.say("When are you open?")
        await expect(widget.answers.nth(1)).to_have_text("We are open Monday to Friday, 9 to 17.")
        await widget.settled()
        yield widget, errors


async def test_a_dropped_connection_resumes_and_the_unacknowledged_message_is_stored_once(base, client, factory, tmp_path):
    origin = f"http://localhost:{urlsplit(base).port}"
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Flaky Net GmbH")
    key = (await published_avatar(client, owner, tenant_id, origins=(origin,)))["widget_key"]
    connections: list[Any] = []
    sent_frames: dict[int, list[dict[str, Any]]] = {}

    def route(page_side: Any) -> None:
        """The first connection loses everything the server sends after the visitor's message, then drops:
        the message is stored and answered, but the widget never saw the ack."""
        server_side = page_side.connect_to_server()
        connections.append(page_side)
        frames = sent_frames[len(connections)] = []
        sent = False

        def from_page(message: str | bytes) -> None:
            nonlocal sent
            frames.append(json.loads(message))
            sent = sent or frames[-1]["type"] == "message"
            server_side.send(message)

        page_side.on_message(from_page)
        if len(connections) > 1:
            return  # later connections pass through untouched

        async def from_server(message: str | bytes) -> None:
            if not sent:
                page_side.send(message)
                return
            frame = json.loads(message)
            if frame.get("type") == "message" and frame.get("author") == "avatar":
                await page_side.close(code=1012, reason="network trouble")

        server_side.on_message(from_server)

    async with asked_through(tmp_path, origin, key, route) as (widget, errors):
        assert len(connections) == 2
        first, second = sent_frames[1], sent_frames[2]
        said = next(f for f in first if f["type"] == "message")
        welcome_seq = 1  # the greeting was the only frame the widget saw before the drop
        assert second[0]["type"] == "hello" and second[0]["visitor_token"]
        assert second[0]["resume"] == {"conversation_id": (await widget.stored(key))["conversation_id"], "last_seq": welcome_seq}
        assert [f for f in second if f["type"] == "message"] == [said]  # resent with the same client_message_id
        assert await widget.texts.all_text_contents() == [
            await widget.texts.first.text_content(), "When are you open?", "We are open Monday to Friday, 9 to 17."
        ]
        state = await widget.stored(key)
        assert state["outbox"] == [] and state["last_seq"] == 3
        assert errors == []

    r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{state['conversation_id']}/transcript", headers=owner.headers)
    assert [(m["seq"], m["author"]) for m in r.json()["messages"]] == [(1, "avatar"), (2, "visitor"), (3, "avatar")]


async def test_a_message_answered_by_frame_failed_is_sent_again_on_the_same_connection(base, client, factory, tmp_path):
    """`frame-failed` leaves a message perhaps stored, perhaps not: the widget sends it again (same id) after a
    back-off on the connection it has, and the server acks the stored one as a duplicate. (Here the server's
    ack is swapped for `frame-failed` on the way to the page.)"""
    origin = f"http://localhost:{urlsplit(base).port}"
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Flaky Db GmbH")
    key = (await published_avatar(client, owner, tenant_id, origins=(origin,)))["widget_key"]
    from_the_page: list[dict[str, Any]] = []
    to_the_page: list[dict[str, Any]] = []

    def route(page_side: Any) -> None:
        server_side = page_side.connect_to_server()
        swapped = False

        def from_page(message: str | bytes) -> None:
            from_the_page.append(json.loads(message))
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            nonlocal swapped
            frame = json.loads(message)
            if frame.get("type") == "ack" and not swapped:
                swapped = True
                frame = {"type": "error", "problem": {"type": "https://confide.dev/problems/frame-failed", "title": "Frame failed", "status": 500,
                                                      "detail": "The server could not handle this frame."}}
                message = json.dumps(frame)
            to_the_page.append(frame)
            page_side.send(message)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    # The message shows "sending" until the duplicate ack of its second send: settled once that came.
    async with asked_through(tmp_path, origin, key, route) as (widget, errors):
        said = [f for f in from_the_page if f["type"] == "message"]
        assert said[0] == said[1], "sent again with the same client_message_id"
        acks = [f for f in to_the_page if f.get("type") == "ack"]
        assert [a["duplicate"] for a in acks] == [True] and acks[0]["client_message_id"] == said[0]["client_message_id"]
        state = await widget.stored(key)
        assert state["outbox"] == []
        assert errors == []

    r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{state['conversation_id']}/transcript", headers=owner.headers)
    assert [(m["seq"], m["author"]) for m in r.json()["messages"]] == [(1, "avatar"), (2, "visitor"), (3, "avatar")]


async def test_the_visitor_sees_a_person_take_over_write_and_hand_back(base, client, factory, tmp_path):
    origin = f"http://localhost:{urlsplit(base).port}"
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Handover GmbH")
    key = (await published_avatar(client, owner, tenant_id, origins=(origin,)))["widget_key"]
    from_team = "Hi, Anna here. <i>How</i> can I help?"

    async with browser(tmp_path) as context:
        page = await context.new_page()
        errors = watch_errors(page)
        await page.goto(f"{origin}/demo?key={key}")
        widget = Widget(page)
        status = page.get_by_role("status")
        await widget.open()
        await expect(widget.answers.first).to_contain_text("AI assistant")
        conversation_id = (await widget.stored(key))["conversation_id"]

        async with operator(base, tenant_id, owner.token) as (staff, _):
            await staff.send({"type": "take_over", "conversation_id": conversation_id})
            await expect(widget.root.locator(".log > li.event")).to_have_count(1)
            await expect(status).to_have_text("You are chatting with a person from the team.")
            await staff.send({"type": "typing", "conversation_id": conversation_id, "active": True})
            await expect(status).to_have_text("A person from the team is writing…")
            await staff.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "op-1", "text": from_team})
            await expect(widget.root.locator(".log > li.operator .text")).to_have_text(from_team)
            await expect(widget.root.locator(".log > li.operator .who")).to_have_text("Team")
            await expect(status).to_have_text("You are chatting with a person from the team.")

            await widget.say("My parcel is late.")
            while not ((frame := await staff.recv())["type"] == "message" and frame["author"] == "visitor"):
                pass
            assert frame["text"] == "My parcel is late." and frame["conversation_id"] == conversation_id
            await staff.send({"type": "hand_back", "conversation_id": conversation_id})
            await expect(widget.root.locator(".log > li.event")).to_have_count(2)
            await expect(status).to_have_text("")
        await widget.settled()
        assert await widget.answers.count() == 1  # the avatar stayed quiet while a person had the chat
        assert errors == []


async def test_a_forged_token_in_storage_gives_way_to_a_new_visitor(base, client, factory, tmp_path):
    origin = f"http://localhost:{urlsplit(base).port}"
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Forgery AG")
    key = (await published_avatar(client, owner, tenant_id, origins=(origin,)))["widget_key"]
    forged = {"visitor_token": "eyJmb3JnZWQiOnRydWV9.e30.c2ln", "conversation_id": "cnv_not_mine", "last_seq": 9, "outbox": []}

    async with browser(tmp_path) as context:
        page = await context.new_page()
        errors = watch_errors(page)
        await page.goto(f"{origin}/demo?key={key}")
        await page.evaluate("([name, value]) => localStorage.setItem(name, value)", [f"confide:widget:{key}", json.dumps(forged)])
        await page.reload()
        widget = Widget(page)
        await widget.open()
        await expect(widget.answers.first).to_contain_text("AI assistant")  # refused (4401), then a fresh start
        state = await widget.stored(key)
        assert state["visitor_token"] != forged["visitor_token"] and state["conversation_id"] != forged["conversation_id"]
        assert state["last_seq"] == 1
        await expect(widget.items).to_have_count(1)
        assert errors == []


async def test_a_conversation_erased_while_open_is_forgotten_by_the_browser(base, client, factory, tmp_path):
    """4410: the business erased the conversation. The widget says so, forgets the conversation and the visitor
    token (its localStorage entry goes), and "Start a new chat" begins as a new visitor."""
    origin = f"http://localhost:{urlsplit(base).port}"
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Erased Chat GmbH")
    key = (await published_avatar(client, owner, tenant_id, origins=(origin,)))["widget_key"]

    async with browser(tmp_path) as context:
        page, widget, errors = await demo_page(context, f"{origin}/demo?key={key}")
        await expect(widget.answers.first).to_contain_text("AI assistant")
        await widget.settled()
        before = await widget.stored(key)
        r = await client.post(
            f"/v1/tenants/{tenant_id}/erasure-requests", json={"scope": "conversation", "conversation_id": before["conversation_id"]}, headers=owner.headers
        )
        assert r.status_code == 202, r.text

        await expect(widget.root.locator(".status")).to_have_text("This chat was deleted at the business's request.")
        await expect(widget.items).to_have_count(0)
        assert await page.evaluate("key => localStorage.getItem('confide:widget:' + key)", key) is None
        await expect(widget.input).to_be_disabled()

        await page.get_by_role("button", name="Start a new chat").click()
        await expect(widget.answers.first).to_contain_text("AI assistant")
        await widget.settled()
        after = await widget.stored(key)
        assert after["conversation_id"] != before["conversation_id"] and after["visitor_token"] != before["visitor_token"]
        assert errors == []


@asynccontextmanager
async def confide_demo(data_dir: Path) -> AsyncIterator[tuple[str, str]]:
    """Run `confide demo` on the embedded defaults; yields the page address it printed and its output so far."""
    port = free_port()
    env = {
        **os.environ,
        "CONFIDE_DATA_DIR": str(data_dir),
        "CONFIDE_HOST": "127.0.0.1",
        "CONFIDE_PORT": str(port),
        "CONFIDE_DATABASE_URL": "",
        "CONFIDE_REDIS_URL": "",
        "CONFIDE_ARGON2_TIME_COST": "1",
        "CONFIDE_ARGON2_MEMORY_KIB": "64",
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "demo.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "confide.cli", "demo", env=env, stdout=log, stderr=log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"confide demo exited {proc.returncode}: {log_path.read_text()[-2000:]}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, "confide demo did not become ready"
                await asyncio.sleep(0.1)  # a starting process has no event to await
        output = log_path.read_text()
        printed = re.search(r"open (http://\S+/demo) in a browser", output)
        assert printed, output[-2000:]
        yield printed.group(1), output
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_confide_demo_prints_a_page_where_a_person_can_chat(tmp_path):
    async with browser(tmp_path) as context, confide_demo(tmp_path / "data") as (url, output):
        assert url.startswith("http://127.0.0.1:") and "data-widget-key=\"cfw_" in output
        page, widget, errors = await demo_page(context, url)
        await expect(page.get_by_role("note")).to_contain_text("AI")
        await expect(page.locator("#confide-title")).to_have_text(DEMO_AVATAR)

        await widget.say("What is Confide?")
        await expect(widget.answers.nth(1)).to_contain_text("AI chat avatars")
        # Asking for a person hands the chat over: a notice in the chat and the waiting state below it.
        await widget.say("Can I talk to a person, please?")
        await expect(widget.root.locator(".log > li.event")).to_have_count(1)
        await expect(page.get_by_role("status")).to_have_text("Waiting for a person from the team…")
        await widget.settled()
        assert await context.cookies() == []
        assert errors == []
