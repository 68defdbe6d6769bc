"""Alembic migrations of the history store (run by ``HistoryStore.open``)."""
