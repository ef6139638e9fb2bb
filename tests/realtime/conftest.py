from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.chat import live_server, published_avatar


@pytest.fixture(scope="session")
async def base(app) -> AsyncIterator[str]:  # noqa: ANN001
    """The session's app served by a real uvicorn on a loopback port."""
    async with live_server(app) as url:
        yield url


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    """A tenant with an owner and a published avatar."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Shop GmbH")
    avatar = await published_avatar(client, owner, tenant_id)
    return {"owner": owner, "tenant_id": tenant_id, **avatar}
