"""The mailed links as a person uses them: a real server, headless Chromium, the token read from the
fragment and never sent in any URL. Skips without Chromium (see tests/realtime/test_widget_e2e.py)."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.accounts.test_account_pages import the_link
from tests.accounts.test_password_reset import NEW_PASSWORD, RESET, anon, body_of, login, settled  # noqa: F401  (anon: a fixture)
from tests.conftest import random_email
from tests.realtime.test_widget_e2e import browser, watch_errors
from tests.support.factory import registration


async def test_the_mailed_links_confirm_the_address_and_reset_the_password(app, base, client, anon, outbox, tmp_path):
    server = base.replace("ws://", "http://")
    email = random_email()
    assert (await client.post("/v1/accounts", json=registration(email))).status_code == 202
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
