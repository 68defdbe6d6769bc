"""The protocol layer serves any entity set a Service describes, not only the three systems."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.sandbox.schema import Column, EntitySet, Lookup, Service
from integrator.sandbox.server import SandboxServer
from integrator.sandbox.stores.ddl import create_schema_sql

SHOP = Service(
    name="sales",
    base_path="/shop/v1/",
    flavor="dataverse",
    database="shop.db",
    max_page_size=50,
    namespace="Shop",
    entity_sets=(
        EntitySet(
            name="products",
            entity_type="product",
            table="product_rows",
            key=("sku",),
            columns=(
                Column("sku", "integer", required=True),
                Column("title", "string", max_length=20, required=True),
                Column("price", "decimal"),
                Column("launched", "datetime"),
                Column("active", "boolean"),
            ),
            lookups=(Lookup("maker", "maker", ("maker",), {"maker": "maker_maker"}),),
        ),
        EntitySet(
            name="makers",
            entity_type="maker",
            table="makers",
            key=("makerid",),
            columns=(Column("makerid", "guid"), Column("name", "string", max_length=40)),
        ),
    ),
)


class ShopStore:
    """A minimal store: one SQLite file built from the description, no rules."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.services = (SHOP,)
        conn = self.connect("sales")
        for statement in create_schema_sql(SHOP):
            conn.execute(statement)
        conn.close()

    def connect(self, service_name: str) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[str]:
    store = ShopStore(tmp_path / "shop.db")
    server = SandboxServer(store, port=0)
    server.app.state.sandbox.handlers["sales"].explain = lambda *args: None
    server.start()
    try:
        yield server.url + "/shop/v1/"
    finally:
        server.stop()


def _all(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = client.get(next_url).json()
        out += body["value"]
        next_url = body.get("@odata.nextLink")
    return out


def test_a_described_service_is_served(shop: str) -> None:
    client = httpx.Client(timeout=30)
    maker = client.post(shop + "makers", json={"name": "Acme"})
    maker_url = maker.headers["OData-EntityId"]
    for sku in range(120):
        body: dict[str, Any] = {
            "sku": sku,
            "title": f"Item {sku}",
            "price": None if sku % 4 == 0 else sku * 1.5,
            "launched": "2024-01-02T03:04:05+01:00",
            "active": sku % 2 == 0,
        }
        if sku % 10 == 0:
            body["maker_maker@odata.bind"] = maker_url
        assert client.post(shop + "products", json=body).status_code == 204

    one = client.get(shop + "products(7)").json()
    assert one["title"] == "Item 7" and one["price"] == 10.5 and one["active"] is False
    assert one["launched"] == "2024-01-02T02:04:05.000Z"

    rows = _all(client, shop + "products?$orderby=price desc&$select=sku,price")
    assert len(rows) == 120 and len({r["sku"] for r in rows}) == 120
    prices = [r["price"] for r in rows]
    assert prices[:90] == sorted(prices[:90], reverse=True) and prices[90:] == [None] * 30

    r = client.get(
        shop + "products",
        params={"$filter": "maker_maker/name eq 'Acme' and active", "$expand": "maker_maker"},
    )
    assert r.status_code == 200, r.text
    values = r.json()["value"]
    assert [v["sku"] for v in values] == list(range(0, 120, 10))
    assert values[0]["maker_maker"]["name"] == "Acme"

    r = client.post(shop + "products", json={"sku": 7, "title": "Twice"})
    assert r.status_code == 412
    r = client.post(shop + "products", json={"sku": 500})
    assert r.status_code == 400 and "'title'" in r.json()["error"]["message"]
    r = client.get(shop + "products('seven')")
    assert r.status_code == 400 and "not an integer" in r.json()["error"]["message"]
