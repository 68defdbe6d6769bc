"""Fixtures shared by every test package."""

from __future__ import annotations

#: ``sandbox`` (fresh per test) and ``sandbox_session`` (shared, read-only) fixtures
pytest_plugins = ["integrator.sandbox.testing"]
