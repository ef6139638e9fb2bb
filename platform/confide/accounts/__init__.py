"""Platform users: registration, verification, login, profile and password (we are their controller)."""
