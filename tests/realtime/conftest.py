from __future__ import annotations


import pytest

from tests.support.chat import published_avatar


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    """A tenant with an owner and a published avatar."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Shop GmbH")
    avatar = await published_avatar(client, owner, tenant_id)
    return {"owner": owner, "tenant_id": tenant_id, **avatar}
