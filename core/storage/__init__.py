"""Conversation memory, usage and custom personas in SQL (SQLAlchemy 2, Alembic)."""
