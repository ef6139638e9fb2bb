"""What every HTTP request is checked for before a route runs. A NUL character (\\u0000, %00) is refused wherever text comes in over HTTP, as on the chat's websocket: 422 naming
the field, and nothing stored. PostgreSQL refuses it in a statement (it answered 500 on every route), SQLite stored it."""

from __future__ import annotations

from tests.test_errors import assert_problem

NUL = "\u0000"


async def test_body_fields_with_a_nul_are_refused_naming_the_field(client, factory):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Nul GmbH")
    cases = [
        ("PATCH", f"/v1/tenants/{tenant_id}", {"name": f"a{NUL}b"}, "body.name"),
        ("POST", "/v1/tenants", {"name": f"x{NUL}"}, "body.name"),
        ("PATCH", "/v1/me", {"first_name": f"A{NUL}da"}, "body.first_name"),
        ("POST", f"/v1/tenants/{tenant_id}/api-keys", {"name": f"k{NUL}", "role": "analyst"}, "body.name"),
        ("POST", f"/v1/tenants/{tenant_id}/legal-holds", {"customer_ref": f"c{NUL}", "reason": "Dispute"}, "body.customer_ref"),
        ("POST", "/v1/contact", {"name": "G", "email": "g@example.com", "message": f"Hi{NUL}", "consent": True}, "body.message"),
    ]
    for method, url, body, field in cases:
        r = await client.request(method, url, json=body, headers=owner.headers)
        problem = assert_problem(r, 422, "validation-error")
        assert problem["errors"][0]["field"] == field, (url, r.text)
        assert "NUL" in problem["errors"][0]["message"], r.text
    r = await client.get(f"/v1/tenants/{tenant_id}", headers=owner.headers)
    assert r.json()["name"] == "Nul GmbH", "nothing stored"


async def test_nested_text_with_a_nul_is_refused(client, factory):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Nested Nul GmbH")
    body = {"name": "Rules", "rules": [{"id": "tone", "kind": "style", "instruction": f"Be kind.{NUL}"}]}
    r = await client.post(f"/v1/tenants/{tenant_id}/guideline-sets", json=body, headers=owner.headers)
    problem = assert_problem(r, 422, "validation-error")
    assert problem["errors"][0]["field"].startswith("body.rules"), r.text
    r = await client.get(f"/v1/tenants/{tenant_id}/guideline-sets", headers=owner.headers)
    assert r.json()["items"] == []


async def test_query_and_path_values_with_a_nul_are_refused(client, factory):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Query Nul GmbH")
    for url, field in [
        (f"/v1/tenants/{tenant_id}/avatars?name=M%00", "query.name"),
        (f"/v1/tenants/{tenant_id}/conversations?q=hel%00lo", "query.q"),
        (f"/v1/tenants/{tenant_id}/exports/manifest?customer_ref=c%00", "query.customer_ref"),
        ("/v1/tenants/ten_%00x", "path.tenant_id"),
        (f"/v1/tenants/{tenant_id}/conversations/cnv_%00x", "path.conversation_id"),
    ]:
        r = await client.get(url, headers=owner.headers)
        problem = assert_problem(r, 422, "validation-error")
        assert [e["field"] for e in problem["errors"]] == [field], (url, r.text)


async def test_an_escaped_backslash_is_no_nul_and_a_body_without_a_content_type_is_checked(client, factory):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Backslash GmbH")
    r = await client.patch(f"/v1/tenants/{tenant_id}", content=b'{"name": "C:\\\\u0000 GmbH"}', headers={**owner.headers, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["name"] == "C:\\u0000 GmbH", r.text  # a backslash, then the letters: text like any other
    r = await client.patch(f"/v1/tenants/{tenant_id}", content=b'{"name": "a\\u0000"}', headers={**owner.headers, "Content-Type": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name", r.text


async def test_a_route_without_a_body_refuses_one(client, factory):
    """As unknown fields are refused: `{"bogus": 1}` or text sent to a route that reads no body is a 422 on `body`,
    and nothing happens; no body, or `{}`, is fine."""
    owner = await factory.user()
    r = await client.post("/v1/me/restriction", json={"bogus": 1}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body", r.text
    r = await client.post("/v1/me/restriction", content=b"{not json", headers={**owner.headers, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body", r.text
    assert (await client.get("/v1/me", headers=owner.headers)).json()["status"] == "active", "nothing happened"
    for body in (None, {}):
        r = await client.post("/v1/me/restriction", json=body, headers=owner.headers)
        assert r.status_code == 200 and r.json()["status"] == "restricted", r.text
        assert (await client.delete("/v1/me/restriction", headers=owner.headers)).status_code == 200


RLO, ZWSP, ZWJ, ZWNJ = "\u202e", "\u200b", "\u200d", "\u200c"


async def test_names_with_bidi_controls_control_characters_or_nothing_visible_are_refused(client, factory):
    """A name people see in lists could hold a right-to-left override (the rest of a member list reads reversed:
    'Trojan Source' spoofing), a line break, or only zero-width spaces, which passed min_length and showed as
    nothing (API review). Each is a 422 naming the field, and nothing is stored."""
    from tests.avatars.test_avatars_api import avatar_body

    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Names GmbH")
    t = f"/v1/tenants/{tenant_id}"
    bad = {f"evil{RLO}gpj.exe": "bidirectional control character U+202E", "Ada\nLovelace": "control character U+000A", ZWSP * 3: "visible character", "Ada\u2028Lovelace": "separator U+2028", "\u3164\u3164": "visible character"}
    for value, message in bad.items():
        cases = [
            ("PATCH", t, {"name": value}, "body.name"),
            ("POST", "/v1/tenants", {"name": value}, "body.name"),
            ("PATCH", "/v1/me", {"first_name": value}, "body.first_name"),
            ("PATCH", "/v1/me", {"pseudonym": value}, "body.pseudonym"),
            ("POST", f"{t}/api-keys", {"name": value, "role": "analyst"}, "body.name"),
            ("POST", f"{t}/avatars", avatar_body(name=value), "body.name"),
            ("POST", f"{t}/guideline-sets", {"name": value, "rules": [{"id": "tone", "kind": "style", "instruction": "Be kind."}]}, "body.name"),
            ("POST", f"{t}/evaluation/score-definitions", {"name": value, "kind": "boolean"}, "body.name"),
            ("POST", f"{t}/webhooks", {"name": value, "url": "https://hooks.example.com/in", "events": ["conversation.closed"]}, "body.name"),
            ("POST", "/v1/contact", {"name": value, "email": "g@example.com", "message": "Hi", "consent": True}, "body.name"),
        ]
        for method, url, body, field in cases:
            r = await client.request(method, url, json=body, headers=owner.headers)
            problem = assert_problem(r, 422, "validation-error")
            assert [e["field"] for e in problem["errors"]] == [field], (url, value, r.text)
            assert message in problem["errors"][0]["message"], (url, r.text)
    assert (await client.get(t, headers=owner.headers)).json()["name"] == "Names GmbH", "nothing stored"
    assert (await client.get(f"{t}/avatars", headers=owner.headers)).json()["items"] == []

    r = await client.post(f"{t}/guideline-sets", json={"name": "   ", "rules": [{"id": "tone", "kind": "style", "instruction": "Be kind."}]}, headers=owner.headers)
    assert [(e["field"], e["type"]) for e in assert_problem(r, 422, "validation-error")["errors"]] == [("body.name", "empty_name")], r.text

    # Right-to-left names, marks, emoji sequences and Persian's zero-width non-joiner are names like any other.
    for value in ("שלום", "مرحبا\u200f", f"👩{ZWJ}💻 Team", f"می{ZWNJ}خواهم", "Zoë Ångström"):
        r = await client.patch(t, json={"name": value}, headers=owner.headers)
        assert r.status_code == 200 and r.json()["name"] == value, r.text


async def test_booleans_and_numbers_come_as_json_booleans_and_numbers(client, factory):
    """Pydantic's lax mode read `"no"` and `0` as false, `1` as true and `"1"` as a number: `{"active": "no"}`
    switched a webhook off without a word. Now each is a 422 naming the field, as on the chat's websocket."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Strict GmbH")
    definitions = f"/v1/tenants/{tenant_id}/evaluation/score-definitions"
    cases = [
        ("POST", "/v1/contact", {"name": "G", "email": "g@example.com", "message": "Hi", "consent": "yes"}, "body.consent", "true or false"),
        ("POST", "/v1/contact", {"name": "G", "email": "g@example.com", "message": "Hi", "consent": 1}, "body.consent", "true or false"),
        ("POST", definitions, {"name": "Stars", "kind": "numeric", "min_value": "1", "max_value": 5}, "body.min_value", "a number"),
        ("POST", definitions, {"name": "Stars", "kind": "numeric", "min_value": 1, "max_value": True}, "body.max_value", "a number"),
    ]
    for method, url, body, field, says in cases:
        r = await client.request(method, url, json=body, headers=owner.headers)
        problem = assert_problem(r, 422, "validation-error")
        assert [e["field"] for e in problem["errors"]] == [field] and says in problem["errors"][0]["message"], (body, r.text)
    assert (await client.get(definitions, headers=owner.headers)).json()["items"] == [], "nothing stored"
    r = await client.post(definitions, json={"name": "Stars", "kind": "numeric", "min_value": 1, "max_value": 5.5}, headers=owner.headers)
    assert r.status_code == 201 and r.json()["min_value"] == 1 and r.json()["max_value"] == 5.5, r.text
