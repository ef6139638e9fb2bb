"""The data-classification registry covers every table and every column that may hold personal data."""

from __future__ import annotations

from confide.core.classification import REGISTRY, Holder, unclassified_columns
from confide.tables import metadata


def test_every_table_is_registered():
    missing = sorted(set(metadata.tables) - set(REGISTRY))
    assert not missing, f"register these tables with confide.core.classification.classify: {missing}"


def test_every_column_is_classified():
    problems = {name: unclassified_columns(table) for name, table in metadata.tables.items() if name in REGISTRY}
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, f"classify these columns as personal (with a category) or not_personal: {problems}"


def test_registered_personal_columns_exist():
    for name, record in REGISTRY.items():
        columns = set(metadata.tables[name].columns.keys())
        assert set(record.personal) <= columns, f"{name}: registry names columns the table lacks"
        if record.personal:
            assert record.holder != Holder.NONE, f"{name} holds personal data but says holder=none"


def test_access_log_is_apart_and_kept_seven_days():
    record = REGISTRY["access_log"]
    assert record.retention_days == 7
    columns = set(metadata.tables["access_log"].columns.keys())
    assert not any(c.endswith("user_id") or c == "email" for c in columns), "access logs must be linked to no user"


async def test_records_of_processing_are_generated(client):
    r = await client.get("/v1/privacy/records")
    assert r.status_code == 200
    body = r.json()
    assert body["controller"]["name"] == "Humanizing Technologies GmbH"
    assert body["data_protection_officer"]["name"] == "DataCo GmbH"
    tables = {entry["table"]: entry for entry in body["as_controller"]}
    assert tables["user_account"]["personal_columns"]["email"] == "contact"
    assert tables["access_log"]["retention_days"] == 7
    listed = set(tables) | {e["table"] for e in body["as_processor"]} | set(body["without_personal_data"])
    assert listed == set(metadata.tables)
