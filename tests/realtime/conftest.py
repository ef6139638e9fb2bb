from __future__ import annotations


import pytest

from tests.support.chat import shop_with_avatar


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    """A tenant with an owner and a published avatar."""
    return await shop_with_avatar(client, factory, "Shop GmbH")
