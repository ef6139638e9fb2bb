"""Platform operators (us) reach the admin routes with a secret token from settings, sent in the
X-Operator-Token header. Unset, the admin routes are off. It grants no access to tenants' chat data.
Wrong tokens are counted per client address: past operator_token_failures_per_address in
OPERATOR_TOKEN_WINDOW_SECONDS, that address is refused (429) until the window ends, the right token too."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from confide.core.errors import ProblemError, Unauthorized
from confide.core.services import ServicesDep, client_address

OPERATOR_TOKEN_BUCKET = "operator-token"
OPERATOR_TOKEN_WINDOW_SECONDS = 900
OPERATOR_TOKEN_HEADER = "X-Operator-Token"

# Declared as an OpenAPI security scheme (apiKey in the header), so /docs offers it under "Authorize" and clients
# generated from the schema send it, as they do the bearer token (core/auth.py). It only reads the header:
# auto_error=False, a missing one is None, and operator() decides every answer as before.
operator_token = APIKeyHeader(
    name=OPERATOR_TOKEN_HEADER,
    scheme_name="OperatorToken",
    description="The platform operator token (CONFIDE_OPERATOR_TOKEN), for the routes under /v1/admin.",
    auto_error=False,
)


class OperatorAccessDisabled(ProblemError):
    status, slug, title = 403, "operator-access-disabled", "Operator access disabled"


async def operator(request: Request, services: ServicesDep, x_operator_token: Annotated[str | None, Depends(operator_token)]) -> str:
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
        raise Unauthorized(f"Send the platform operator token in the {OPERATOR_TOKEN_HEADER} header.")
    return "operator"


OperatorDep = Annotated[str, Depends(operator)]
