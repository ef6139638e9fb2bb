"""The two websocket routes (not in OpenAPI, which has no websockets; see docs/protocol.md)."""

from fastapi import APIRouter

from confide.realtime.operator import operator_chat
from confide.realtime.visitor import visitor_chat

router = APIRouter()
router.add_api_websocket_route("/v1/widget/{widget_key}/chat", visitor_chat)
router.add_api_websocket_route("/v1/tenants/{tenant_id}/chat/operator", operator_chat)
