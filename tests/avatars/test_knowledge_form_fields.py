"""The text parts of a multipart document upload (`title`, `language`) and the file's name, which titles a document
sent without a `title`, are checked as a JSON body's text is (API review): a NUL character, which no database stores
(PostgreSQL refused it: a 500; SQLite kept it), and text that is not valid UTF-8, which was read as Latin-1 and
stored as mojibake, answer 422 naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.avatars.test_avatars_api import create_avatar
from tests.avatars.test_knowledge_api import knowledge_counts

PROBLEM = "application/problem+json"
BOUNDARY = "confide-test-boundary"


def multipart(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart/form-data body built byte for byte (a client library would escape or encode what is tested here):
    each part is (its Content-Disposition parameters, its content)."""
    out = b""
    for disposition, content in parts:
        kind = b"\r\nContent-Type: text/plain" if b"filename=" in disposition else b""
        out += b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data; " + disposition + kind + b"\r\n\r\n" + content + b"\r\n"
    return out + b"--" + BOUNDARY.encode() + b"--\r\n"


@pytest.fixture
async def avatar(client, factory):  # noqa: ANN001, ANN201
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    created = await create_avatar(client, owner, tenant)
    return owner, tenant, f"/v1/tenants/{tenant}/avatars/{created['id']}"


FILE = (b'name="file"; filename="returns.txt"', b"You can return any item within 30 days.")


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    body = r.json()
    assert body["type"].endswith("/validation-error") and [e["field"] for e in body["errors"]] == [field], r.text


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([FILE, (b'name="title"', b"Ret\x00urns")], "body.title"),
        ([FILE, (b'name="language"', b"en\x00")], "body.language"),
        ([(b'name="file"; filename="ret\x00urns.txt"', FILE[1])], "body.file"),  # no title part: the file's name is the title
        ([FILE, (b'name="title"', b"Caf\xe9 returns")], "body.title"),  # Latin-1, not UTF-8
        ([FILE, (b'name="title"', b"\xff\xfe")], "body.title"),
        ([FILE, (b'name="language"', b"\xe9n")], "body.language"),
        ([(b'name="file"; filename="caf\xe9.txt"', FILE[1])], "body.file"),
        # A title is shown in lists as every other name: no control characters (an ANSI escape), no bidi controls.
        ([FILE, (b'name="title"', b"a\x01b\x1b[31m")], "body.title"),
        ([FILE, (b'name="title"', "Returns\u202e".encode())], "body.title"),
        ([(b'name="file"; filename="ret\x1b[31murns.txt"', FILE[1])], "body.file"),
    ],
    ids=[
        "title-nul", "language-nul", "filename-nul", "title-latin-1", "title-bytes", "language-latin-1", "filename-latin-1",
        "title-control", "title-bidi", "filename-control",
    ],
)
async def test_a_nul_or_invalid_utf8_in_a_form_field_is_a_422_naming_it(client, avatar, parts, field):
    owner, _, url = avatar
    headers = {**owner.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    r = await client.post(url + "/knowledge/documents", content=multipart(*parts), headers=headers)
    refused(r, field)
    assert await knowledge_counts(client, owner, url) == (0, 0)


async def test_a_client_librarys_upload_with_a_nul_in_the_title_is_refused(client, avatar):
    owner, _, url = avatar
    r = await client.post(url + "/knowledge/documents", files={"file": ("a.txt", b"hello world", "text/plain")}, data={"title": "ab\x00cd"}, headers=owner.headers)
    refused(r, "body.title")
    assert await knowledge_counts(client, owner, url) == (0, 0)


async def test_valid_text_parts_are_kept_as_sent(client, avatar):
    owner, _, url = avatar
    headers = {**owner.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    titled = multipart(FILE, (b'name="title"', "Rückgabe · 返品 ☕".encode()), (b'name="language"', b"de"))
    r = await client.post(url + "/knowledge/documents", content=titled, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Rückgabe · 返品 ☕" and r.json()["language"] == "de"
    # Without a title part the file's name (UTF-8, as browsers send it) titles the document; a broken one is fine then
    r = await client.post(url + "/knowledge/documents", content=multipart(('name="file"; filename="Café-Rückgabe.txt"'.encode(), FILE[1])), headers=headers)
    assert r.status_code == 201 and r.json()["title"] == "Café-Rückgabe", r.text
    named = multipart((b'name="file"; filename="caf\xe9.txt"', FILE[1]), (b'name="title"', b"Returns"))
    r = await client.post(url + "/knowledge/documents", content=named, headers=headers)
    assert r.status_code == 201 and r.json()["title"] == "Returns", r.text
    # A body that names another charset is read in it
    latin = multipart(FILE, (b'name="title"', "Café".encode("latin-1")))
    r = await client.post(url + "/knowledge/documents", content=latin, headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}; charset=latin-1"})
    assert r.status_code == 201 and r.json()["title"] == "Café", r.text
    assert await knowledge_counts(client, owner, url) == (0, 4)


async def test_a_malformed_multipart_body_is_still_a_400_problem(client, avatar):
    owner, _, url = avatar
    r = await client.post(url + "/knowledge/documents", content=b"abc", headers={**owner.headers, "Content-Type": "multipart/form-data"})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM and r.json()["type"].endswith("/bad-request"), r.text
    two = multipart(FILE, (b'name="file"; filename="b.txt"', b"more"))
    r = await client.post(url + "/knowledge/documents", content=two, headers={**owner.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert r.status_code == 400 and r.json()["type"].endswith("/bad-request"), r.text
    assert await knowledge_counts(client, owner, url) == (0, 0)


async def test_an_unknown_part_is_a_422_naming_it_and_nothing_is_stored(client, avatar):
    """A misspelt part ('titel') was ignored: the document was stored under the file's name, unnoticed."""
    owner, _, url = avatar
    before = await knowledge_counts(client, owner, url)
    body = multipart(FILE, (b'name="titel"', b"Returns policy"))
    r = await client.post(f"{url}/knowledge/documents", content=body, headers={**owner.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    refused(r, "body.titel")
    assert "file, title, language" in r.json()["errors"][0]["message"]
    assert await knowledge_counts(client, owner, url) == before


async def test_a_title_in_the_query_or_an_import_is_checked_as_a_name(client, avatar):
    owner, _, url = avatar
    r = await client.post(url + "/knowledge/documents", params={"title": "a\x01b\x1b[31m"}, content=b"Text.", headers={**owner.headers, "Content-Type": "text/plain"})
    refused(r, "query.title")
    assert "control character" in r.json()["errors"][0]["message"], r.text
    body = {"entries": [], "documents": [{"title": "Returns\u202e", "content": "Text."}]}
    r = await client.post(url + "/knowledge/import", json=body, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.documents.0.title", r.text
    assert await knowledge_counts(client, owner, url) == (0, 0)
