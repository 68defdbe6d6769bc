"""Fixtures: a fresh sandbox data directory and connections to its three stores."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.sandbox.stores import SandboxStore


@pytest.fixture
def store(tmp_path: Path) -> SandboxStore:
    return SandboxStore.open(tmp_path / "data")


def _connection(store: SandboxStore, name: str) -> Iterator[sqlite3.Connection]:
    conn = store.connect(name)
    yield conn
    conn.close()


@pytest.fixture
def sales(store: SandboxStore) -> Iterator[sqlite3.Connection]:
    yield from _connection(store, "sales")


@pytest.fixture
def cds(store: SandboxStore) -> Iterator[sqlite3.Connection]:
    yield from _connection(store, "cds")


@pytest.fixture
def finops(store: SandboxStore) -> Iterator[sqlite3.Connection]:
    yield from _connection(store, "finops")
