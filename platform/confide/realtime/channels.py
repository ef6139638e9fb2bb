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
    """One member per operator connection (presence_member), so a second tab closing leaves its user online."""
    return f"presence:{tenant_id}"


def presence_member(user_id: str, connection_id: str) -> str:
    return f"{user_id} {connection_id}"


def online_users(members: list[str]) -> list[str]:
    """The distinct users behind a presence group's members (one per open connection), sorted."""
    return sorted({member.split(" ", 1)[0] for member in members})


def visitor_connections_group(visitor_id: str) -> str:
    return f"vconn:{visitor_id}"
