"""Conformance targets over HTTP: Sales contacts (Dataverse) and F&O CustomersV2, each in a
fresh sandbox. Data is put in "behind the connector's back" with plain HTTP requests (Sales)
or straight into the store (F&O), as another user of the system would."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from integrator.connectors.base import Connector, Record
from integrator.connectors.dataverse import DataverseConnection
from integrator.connectors.finops import FinOpsConnection
from integrator.connectors.http.batch import BatchOperation, decode_batch, encode_batch
from integrator.connectors.http.keys import key_path
from integrator.connectors.registry import open_connection
from integrator.sandbox.testing import SandboxHandle, running_sandbox

from ..conformance.target import AWKWARD_TEXT, BadRecord, ConformanceTarget, FaultKind

__all__ = ["DataverseTarget", "FinOpsTarget", "dataverse_target", "finops_target"]

_CITIES = ("Paris", "Lyon", "D'Arcy", "Salt & Pepper", "Berlin", "Oslo", "paris")
_FAST_RETRIES: dict[str, Any] = {"retry": {"base_delay_seconds": 0.01, "attempts": 30}}


def _text(number: int) -> str:
    if number % 50 < len(AWKWARD_TEXT):
        return AWKWARD_TEXT[number % 50]
    return f"Name {number:04d}"


def _text_filters(text: str, nullable: str) -> list[str]:
    return [
        f"{text} eq 'O''Brien'",
        f"{text} ne 'O''Brien'",
        f"{text} eq 'Smith & Sons'",
        f"{text} eq 'A&B ''quoted'''",
        f"contains({text}, '&')",
        f"contains({text}, '''')",
        f"startswith({text}, 'Name 00')",
        f"endswith({text}, '7')",
        f"{nullable} eq null",
        f"{nullable} ne null",
        f"{nullable} ne 'Paris'",
        f"not ({nullable} eq 'Paris')",
    ]


class _SandboxTarget(ConformanceTarget):
    case_insensitive = True
    supports_faults = True
    blank_is_null = True
    service: str

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.sandbox = sandbox

    def faults(self, kind: FaultKind, rate: float) -> AbstractContextManager[None]:
        """Inject 429s (``Retry-After: 0``) or an even mix of 500 and 503 at ``rate``."""

        @contextmanager
        def injected() -> Iterator[None]:
            if kind == "throttle":
                self.sandbox.set_faults(seed=5, rate_429=rate, retry_after=0)
            else:
                self.sandbox.set_faults(seed=5, rate_500=rate / 2, rate_503=rate / 2)
            try:
                yield
            finally:
                self.sandbox.clear_faults()

        return injected()

    def injected_faults(self) -> int:
        """Answers with status 429, 500 or 503 the sandbox counted (it injects only those)."""
        statuses = self.sandbox.request_counts()["statuses"]
        return sum(
            count
            for by_status in statuses.values()
            for status, count in by_status.items()
            if status in ("429", "500", "503")
        )

    def _batch(self, operations: list[BatchOperation]) -> None:
        root = self.sandbox.service_url(self.service)
        for start in range(0, len(operations), 1000):
            chunk = operations[start : start + 1000]
            content_type, body = encode_batch(chunk, base_url=root)
            response = httpx.post(
                root + "$batch",
                content=body,
                headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"},
                timeout=120,
            )
            response.raise_for_status()
            parts = decode_batch(
                response.headers["content-type"], response.content, expected=len(chunk), url=root
            )
            failed = [p for p in parts if p.status is None or p.status >= 300]
            assert not failed, failed[0]


class DataverseTarget(_SandboxTarget):
    """Sales ``contacts`` keyed by the contact number (an alternate key)."""

    name = "dataverse-sales"
    service = "sales"
    entity = "contacts"
    key = ("msdynce_contactnumber",)
    nullable = "address1_city"
    fields = (
        "msdynce_contactnumber",
        "lastname",
        "accountrolecode",
        "msdynce_isactivecustomer",
        "address1_city",
    )

    def connector(self, *, page_size: int | None = None) -> Connector:
        """A Dataverse connector to the sandbox's Sales."""
        config = DataverseConnection(
            url=self.sandbox.sales, page_size=page_size or 5000, **_FAST_RETRIES
        )
        return open_connection(config)

    def record(self, number: int) -> Record:
        """Contact ``number``: role 1-3, active one time in four, city empty one in five."""
        return {
            "msdynce_contactnumber": f"CON-{number:05d}-CF",
            "lastname": _text(number),
            "accountrolecode": 1 + number % 3,
            "msdynce_isactivecustomer": number % 4 == 0,
            "address1_city": None if number % 5 == 0 else _CITIES[number % len(_CITIES)],
        }

    def _upserts(self, records: Sequence[Record]) -> list[BatchOperation]:
        return [
            BatchOperation.json("PATCH", key_path("contacts", {k: r[k] for k in self.key}), dict(r))
            for r in records
        ]

    def load(self, records: Sequence[Record]) -> None:
        """Write ``records`` with plain ``$batch`` requests."""
        self._batch(self._upserts(records))

    def bad_records(self) -> list[BadRecord]:
        """A name too long and a role outside the option set."""
        return [
            BadRecord(dict(self.record(9001), lastname="x" * 51), "lastname", "maximum is 50"),
            BadRecord(dict(self.record(9002), accountrolecode=7), "accountrolecode", "7"),
        ]

    def filters(self) -> list[str]:
        """The standard text and empty-field filters, with Sales' option set as the number."""
        return [
            *_text_filters("lastname", "address1_city"),
            "accountrolecode gt 2",
            "accountrolecode lt 1.5",
            "accountrolecode ge 2 and accountrolecode le 2",
            "accountrolecode gt 2 or lastname eq 'O''Brien'",
            "msdynce_isactivecustomer eq true",
            "not (msdynce_isactivecustomer eq true)",
            "(address1_city eq 'Paris' or address1_city eq 'Lyon') and "
            "not (msdynce_isactivecustomer eq true)",
        ]

    def changed(self, record: Record) -> Record:
        """``record`` with another city."""
        return dict(record, address1_city="Changed City")

    def make_changes(self, loaded: Sequence[Record]) -> dict[tuple[Any, ...], Record]:
        """Update every 97th contact's name, add 25 contacts."""
        changed = [dict(r, lastname=f"Renamed {i}") for i, r in enumerate(loaded) if i % 97 == 0]
        added = [self.record(5000 + n) for n in range(25)]
        self.load(changed + added)
        return {self.key_of(r): r for r in changed + added}


class FinOpsTarget(_SandboxTarget):
    """F&O ``CustomersV2`` in two companies, keyed by (dataAreaId, CustomerAccount)."""

    name = "finops"
    service = "finops"
    entity = "CustomersV2"
    key = ("dataAreaId", "CustomerAccount")
    nullable = "AddressCity"
    fields = (
        "dataAreaId",
        "CustomerAccount",
        "OrganizationName",
        "CustomerGroupId",
        "AddressCountryRegionISOCode",
        "AddressCity",
        "IsExternallyMaintained",
    )
    supports_changes = False

    def connector(self, *, page_size: int | None = None) -> Connector:
        """An F&O connector to the sandbox, across companies."""
        config = FinOpsConnection(
            url=self.sandbox.finops, page_size=page_size or 10000, **_FAST_RETRIES
        )
        return open_connection(config)

    def record(self, number: int) -> Record:
        """Customer ``number`` in usmf or demf, group 10/20/30, city empty one in five."""
        return {
            "dataAreaId": ("usmf", "demf")[number % 2],
            "CustomerAccount": f"C-{number:05d}",
            "OrganizationName": _text(number),
            "CustomerGroupId": ("10", "20", "30")[number % 3],
            "AddressCountryRegionISOCode": "USA",
            "AddressCity": None if number % 5 == 0 else _CITIES[number % len(_CITIES)],
            "IsExternallyMaintained": ("No", "Yes")[number % 4 == 0],
        }

    def load(self, records: Sequence[Record]) -> None:
        """Insert ``records`` straight into the F&O store."""
        from integrator.sandbox.stores import SandboxStore

        columns = list(self.fields)
        conn = SandboxStore.open(self.sandbox.data_dir, with_solution=None).connect("finops")
        with conn:
            conn.executemany(
                f"INSERT INTO CustomersV2 ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [tuple(r[c] for c in columns) for r in records],
            )
        conn.close()

    def bad_records(self) -> list[BadRecord]:
        """A customer group that does not exist, a name too long."""
        return [
            BadRecord(dict(self.record(9001), CustomerGroupId="99"), "CustomerGroupId", "'99'"),
            BadRecord(
                dict(self.record(9002), OrganizationName="y" * 101),
                "OrganizationName",
                "maximum is 100",
            ),
        ]

    def filters(self) -> list[str]:
        """Text filters (string functions are checked client-side on F&O) and enum filters."""
        return [
            *_text_filters("OrganizationName", "AddressCity"),
            "IsExternallyMaintained eq 'Yes'",
            "not (IsExternallyMaintained eq 'Yes')",
            "CustomerGroupId eq '20' or OrganizationName eq 'O''Brien'",
            "dataAreaId eq 'demf' and CustomerGroupId ne '10'",
            "(AddressCity eq 'Paris' or AddressCity eq 'Lyon') and "
            "not (IsExternallyMaintained eq 'Yes')",
        ]

    def changed(self, record: Record) -> Record:
        """``record`` in another customer group."""
        return dict(record, CustomerGroupId="30" if record["CustomerGroupId"] != "30" else "10")

    def make_changes(self, loaded: Sequence[Record]) -> dict[tuple[Any, ...], Record]:
        """F&O entities here are not change-tracked."""
        raise NotImplementedError("F&O CustomersV2 has no change tracking in the sandbox")


@contextmanager
def dataverse_target(scratch: Path) -> Iterator[ConformanceTarget]:
    """A fresh sandbox's Sales contacts."""
    with running_sandbox(scratch / "sandbox") as sandbox:
        yield DataverseTarget(sandbox)


@contextmanager
def finops_target(scratch: Path) -> Iterator[ConformanceTarget]:
    """A fresh sandbox's F&O customers."""
    with running_sandbox(scratch / "sandbox") as sandbox:
        yield FinOpsTarget(sandbox)
