"""Move a Dataverse number sequence: the ``SetAutoNumberSeed`` action, through a connector."""

from __future__ import annotations

import orjson

from integrator.connectors.base import Connector
from integrator.connectors.dataverse import DataverseConnector
from integrator.errors import ConfigError
from integrator.p2c.upgrade import SeedSetter

__all__ = ["autonumber_seed_setter"]


def autonumber_seed_setter(sales: Connector) -> SeedSetter:
    """A function calling ``SetAutoNumberSeed`` on the Dataverse service behind ``sales``.

    Raises :class:`ConfigError` when ``sales`` is not a Dataverse connection (only Dataverse has
    number sequences to move).
    """
    if not isinstance(sales, DataverseConnector):
        raise ConfigError(
            "the upgrade script needs the Sales connection to be a Dataverse Web API connection"
        )

    def set_seed(entity: str, attribute: str, value: int) -> None:
        body = {"EntityName": entity, "AttributeName": attribute, "Value": value}
        sales.client.request(
            "POST",
            "SetAutoNumberSeed",
            headers={"Content-Type": "application/json"},
            content=orjson.dumps(body),
        )

    return set_seed
