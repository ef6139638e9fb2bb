"""The mailed links as a person uses them: a real server, headless Chromium, the token read from the
fragment, POSTed in a body and never sent in any URL. Skips without Chromium (see tests/realtime/test_widget_e2e.py)."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.accounts.test_account_pages import newsletter_issue, the_link
from tests.accounts.test_password_reset import NEW_PASSWORD, RESET, anon, body_of, login, settled  # noqa: F401  (anon: a fixture)
from tests.conftest import random_email
from tests.realtime.test_widget_e2e import browser, watch_errors
from tests.support.factory import registration


async def test_the_mailed_links_confirm_the_address_and_reset_the_password(app, base, client, anon, outbox, tmp_path):
    server = base.replace("ws://", "http://")
    email = random_email()
    assert (await client.post("/v1/accounts", json=registration(email))).status_code == 202
    await settled(app)  # the account is created after the answer: a reset asked for before finds none
    assert (await anon.post(RESET, json={"email": email})).status_code == 202
    await settled(app)
    confirmation, reset = (the_link(app, body_of(mail)) for mail in outbox.messages_to(email))

    async with browser(tmp_path) as context:
        page = await context.new_page()
        errors = watch_errors(page)
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))

        await page.goto(f"{server}{confirmation[0]}#{confirmation[1]}")
        await expect(page).to_have_url(f"{server}{confirmation[0]}")  # the token is out of the address bar
        await page.get_by_role("button", name="Confirm my address").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("Your email address is confirmed"))

        await page.goto(f"{server}{reset[0]}#{reset[1]}")
        await page.get_by_label("New password").fill("a long pass one 11")
        await page.get_by_label("The same again").fill("a long pass two 22")
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page.get_by_role("status")).to_have_text("The two passwords differ.")
        await page.get_by_label("New password").fill(NEW_PASSWORD)
        await page.get_by_label("The same again").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("Your password is changed"))

        page = await context.new_page()  # the same link again, as from the mail: the API's problem is shown
        errors_again = watch_errors(page)
        page.on("request", lambda request: urls.append(request.url))
        await page.goto(f"{server}{reset[0]}#{reset[1]}")
        await page.get_by_label("New password").fill("yet another one 55")
        await page.get_by_label("The same again").fill("yet another one 55")
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("unknown, used or expired"))

    assert errors == errors_again == []
    assert urls and not [u for u in urls if "cft_" in u], "no token in any URL the browser requested"
    assert await login(client, email, NEW_PASSWORD) == 200


async def test_the_mailed_privacy_links_confirm_unsubscribe_and_object(app, base, client, factory, outbox, tmp_path):
    """The newsletter confirmation, the unsubscribe link in an issue (opening it changes nothing: mail
    scanners open links; the button unsubscribes, and a second use shows the API's words as done, not as an error), the contact
    acknowledgement's objection: each acts on its button."""
    server = base.replace("ws://", "http://")
    user = await factory.user(newsletter_opt_in=True)
    confirm = the_link(app, body_of(outbox.messages_to(user.email)[-1]))
    email = random_email()
    r = await client.post("/v1/contact", json={"name": "Grace Hopper", "email": email, "message": "Hello", "consent": True})
    assert r.status_code == 202, r.text
    (objection,) = (the_link(app, body_of(mail)) for mail in outbox.messages_to(email))

    async with browser(tmp_path) as context:
        page = await context.new_page()
        errors = watch_errors(page)
        urls: list[str] = []
        posts: list[tuple[str, str]] = []

        def record(request) -> None:  # noqa: ANN001
            urls.append(request.url)
            if request.method == "POST":
                posts.append((request.url.removeprefix(server), request.post_data_json["token"]))

        page.on("request", record)
        await page.goto(f"{server}{confirm[0]}#{confirm[1]}")
        await expect(page).to_have_url(f"{server}{confirm[0]}")  # the token is out of the address bar
        await page.get_by_role("button", name="Subscribe").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("Your newsletter subscription is confirmed"))
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"

        subject = f"Issue {random_email()}"
        await newsletter_issue(app, subject)
        (unsubscribe,) = (the_link(app, body_of(m)) for m in outbox.messages_to(user.email) if m["Subject"] == subject)
        await page.goto(f"{server}{unsubscribe[0]}#{unsubscribe[1]}")
        await expect(page).to_have_url(f"{server}{unsubscribe[0]}")
        await expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active", "opening alone unsubscribes nobody"
        await page.get_by_role("button", name="Unsubscribe").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("You are unsubscribed"))
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
        await page.goto(f"{server}{unsubscribe[0]}#{unsubscribe[1]}")  # the same link again, in the same tab
        await page.get_by_role("button", name="Unsubscribe").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("This link was already used"))
        await expect(page.get_by_role("status")).to_have_class("done")  # what the reader wanted holds: no error
        await expect(page.get_by_role("button", name="Unsubscribe")).to_be_hidden()

        await page.goto(f"{server}{objection[0]}#{objection[1]}")
        await page.get_by_role("button", name="Delete my messages").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile("Your contact messages and the details in them are deleted"))

    assert errors == []
    tokens = [fragment.removeprefix("token=") for _, fragment in (confirm, unsubscribe, objection)]
    assert posts == [
        ("/v1/newsletter/confirm", tokens[0]),
        ("/v1/newsletter/unsubscribe", tokens[1]),
        ("/v1/newsletter/unsubscribe", tokens[1]),
        ("/v1/contact/objection", tokens[2]),
    ], "each page POSTs its token to its API route, the unsubscribe page on opening"
    assert urls and not [u for u in urls if any(token in u for token in tokens)], "no token in any URL the browser requested"
    assert outbox.messages_to(email) == [], "the objection deleted the messages and the acknowledgement's copy"
