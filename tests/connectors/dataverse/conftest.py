"""Dataverse connectors pointed at a fresh sandbox's Sales and CDS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integrator.connectors.dataverse import DataverseConnection, DataverseConnector
from integrator.connectors.registry import open_connection
from integrator.sandbox.testing import SandboxHandle

MakeConnector = Callable[..., DataverseConnector]


@pytest.fixture
def make_connector(sandbox: SandboxHandle) -> Iterator[MakeConnector]:
    """``make_connector(service="sales", **config)``: a connector with fast retries, writing
    through ``$batch`` unless ``bulk_messages="auto"`` is asked for (the bulk messages have
    their own tests, ``test_dataverse_bulk.py``)."""
    made: list[DataverseConnector] = []

    def make(service: str = "sales", **config: Any) -> DataverseConnector:
        settings: dict[str, Any] = {
            "retry": {"base_delay_seconds": 0.01, "attempts": 20},
            "bulk_messages": "never",
            **config,
        }
        connector = open_connection(
            DataverseConnection(url=sandbox.service_url(service), **settings)
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def sales(make_connector: MakeConnector) -> DataverseConnector:
    """A connector to the sandbox's Sales."""
    return make_connector("sales")
