"""Imports every table module, so the metadata alembic and the registry tests see is complete."""

from confide.accounts import models as _accounts  # noqa: F401
from confide.core import access_log as _access_log  # noqa: F401
from confide.core import identity as _identity  # noqa: F401
from confide.core.db import metadata
from confide.tenants import models as _tenants  # noqa: F401

__all__ = ["metadata"]
