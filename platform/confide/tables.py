"""Imports every table module, so the metadata alembic and the registry tests see is complete."""

from avatars import models as _avatars  # noqa: F401
from confide.accounts import models as _accounts  # noqa: F401
from confide.chats import models as _chats  # noqa: F401
from confide.core import access_log as _access_log  # noqa: F401
from confide.core import identity as _identity  # noqa: F401
from confide.core.db import metadata
from confide.evaluation import models as _evaluation  # noqa: F401
from confide.privacy import models as _privacy  # noqa: F401
from confide.privacy import erasure_models as _erasure  # noqa: F401
from confide.tenants import models as _tenants  # noqa: F401
from guidelines import models as _guidelines  # noqa: F401

__all__ = ["metadata"]
