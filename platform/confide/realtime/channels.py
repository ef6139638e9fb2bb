"""Broker channel and group names, in one place so every node agrees."""


def conversation(conversation_id: str) -> str:
    """Sequenced frames and typing of one conversation: the visitor's and operators' connections."""
    return f"conv:{conversation_id}"


def conversation_staff(conversation_id: str) -> str:
    """Private notes: only operators' connections subscribe, never the visitor's."""
    return f"convstaff:{conversation_id}"


def operators(tenant_id: str) -> str:
    """Queue updates and presence for a tenant's operators."""
    return f"ops:{tenant_id}"


def presence_group(tenant_id: str) -> str:
    return f"presence:{tenant_id}"


def visitor_connections_group(visitor_id: str) -> str:
    return f"vconn:{visitor_id}"
