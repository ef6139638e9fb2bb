"""Tenants (business customers), their members and roles, invitations and API keys."""
