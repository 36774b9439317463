"""Alembic migrations; ``tousu migrate`` applies them (the schema never comes from create_all)."""
