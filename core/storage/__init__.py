"""Conversation memory, usage and custom personas in SQL (SQLAlchemy 2, Alembic).

`stores.Storage` opens every store over one database; each store owns one kind of record.
Callers see records (`records.py`) and `errors.StorageError`, never SQLAlchemy.
"""
