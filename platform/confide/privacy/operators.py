"""Platform operators (us) reach the admin routes with a secret token from settings, sent in the
X-Operator-Token header. Unset, the admin routes are off. It grants no access to tenants' chat data.
Wrong tokens are counted per client address: past operator_token_failures_per_address in
OPERATOR_TOKEN_WINDOW_SECONDS, that address is refused (429) until the window ends, the right token too."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from confide.core.errors import ProblemError, Unauthorized
from confide.core.services import ServicesDep, client_address

OPERATOR_TOKEN_BUCKET = "operator-token"
OPERATOR_TOKEN_WINDOW_SECONDS = 900


class OperatorAccessDisabled(ProblemError):
    status, slug, title = 403, "operator-access-disabled", "Operator access disabled"


async def operator(
    request: Request, services: ServicesDep, x_operator_token: Annotated[str | None, Header(description="The platform operator token.")] = None
) -> str:
    settings = services.settings
    expected = settings.operator_token
    if not expected:
        raise OperatorAccessDisabled("Operator routes are off on this server: set CONFIDE_OPERATOR_TOKEN to use them.")
    address = client_address(request) or "unknown"
    await services.refuse_if_spent(
        OPERATOR_TOKEN_BUCKET, address, settings.operator_token_failures_per_address, "Too many wrong operator tokens from this address."
    )
    if not x_operator_token or not hmac.compare_digest(x_operator_token.encode(), expected.encode()):
        await services.count_event(OPERATOR_TOKEN_BUCKET, address, OPERATOR_TOKEN_WINDOW_SECONDS)
        raise Unauthorized("Send the platform operator token in the X-Operator-Token header.")
    return "operator"


OperatorDep = Annotated[str, Depends(operator)]
