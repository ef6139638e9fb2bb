"""Platform operators (us) reach the admin routes with a secret token from settings, sent in the
X-Operator-Token header. Unset, the admin routes are off. It grants no access to tenants' chat data."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header

from confide.core.errors import ProblemError, Unauthorized
from confide.core.services import ServicesDep


class OperatorAccessDisabled(ProblemError):
    status, slug, title = 403, "operator-access-disabled", "Operator access disabled"


async def operator(services: ServicesDep, x_operator_token: Annotated[str | None, Header(description="The platform operator token.")] = None) -> str:
    expected = services.settings.operator_token
    if not expected:
        raise OperatorAccessDisabled("Operator routes are off on this server: set CONFIDE_OPERATOR_TOKEN to use them.")
    if not x_operator_token or not hmac.compare_digest(x_operator_token.encode(), expected.encode()):
        raise Unauthorized("Send the platform operator token in the X-Operator-Token header.")
    return "operator"


OperatorDep = Annotated[str, Depends(operator)]
