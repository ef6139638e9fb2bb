"""What every domain depends on: database, ids, errors, auth, tenancy, broker, clock."""
