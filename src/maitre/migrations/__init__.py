"""Alembic migrations of the service's schema: env.py and versions/, shipped inside the package."""
