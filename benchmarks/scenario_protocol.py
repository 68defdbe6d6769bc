"""Protocol economy and speed of the HTTP connectors, through a sandbox on loopback.

``run(contacts)`` seeds Sales with ``contacts`` contacts, then through the connectors:

1. reads them all from Sales (the Contacts task's fields, the parent account's number
   expanded), pages of 5000; then again by change tracking (no checkpoint: everything, and a
   delta link), as an incremental engine's first run does;
2. upserts them into CDS ``contacts`` (new), one upsert call per page read (5000 records), as
   the engine does;
3. upserts them again, unchanged, through a new connector (what a later run costs);
4. upserts them into F&O ``CustomersV2`` (new), and again unchanged;
5. UpsertMultiple beside ``$batch``, same records, same run: the CDS contacts written new
   (under a key prefix of their own per mode) and then all changed, once with
   ``bulk_messages: never`` (``$batch``) and once with ``auto`` (``CreateMultiple`` for the
   load, ``UpsertMultiple`` for the changes), each by a new connector.

For each step it reports HTTP requests per 1000 records (counted by the sandbox, ``$metadata``
excluded) and records per second. ``throttle_rate`` makes the sandbox answer that share of
requests with 429 (``Retry-After: 0``), to show what throttling costs in requests.

Run: ``python -m benchmarks.scenario_protocol [CONTACTS] [THROTTLE_RATE]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from integrator.connectors.base import Connector, Record
from integrator.connectors.dataverse import DataverseConnection
from integrator.connectors.finops import FinOpsConnection
from integrator.connectors.registry import open_connection
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import SandboxHandle, running_sandbox

__all__ = ["run"]

SALES_FIELDS = [
    "msdynce_contactnumber",
    "firstname",
    "lastname",
    "emailaddress1",
    "telephone1",
    "jobtitle",
    "address1_city",
    "address1_postalcode",
    "parentcustomerid.accountnumber",
]


def _to_cds(record: Record) -> Record:
    return {
        "Organization_OrganizationId": "ORG001",
        "ContactId": record["msdynce_contactnumber"],
        "FirstName": record["firstname"],
        "LastName": record["lastname"],
        "EmailPrimary": record["emailaddress1"],
        "PhonePrimary": record["telephone1"],
        "JobTitle": record["jobtitle"],
        "PrimaryAddressCity": record["address1_city"],
    }


def _to_finops(record: Record) -> Record:
    return {
        "dataAreaId": "usmf",
        "CustomerAccount": record["msdynce_contactnumber"][:20],
        "PartyType": "Person",
        "PersonFirstName": (record["firstname"] or "")[:25] or None,
        "PersonLastName": (record["lastname"] or "?")[:25],
        "CustomerGroupId": "10",
        "AddressCountryRegionISOCode": "USA",
        "LanguageId": "en-us",
        "IsExternallyMaintained": "Yes",
    }


def _step(
    sandbox: SandboxHandle, records: int, action: Callable[[], Any]
) -> tuple[dict[str, Any], Any]:
    sandbox.reset_request_counts()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    counts = sandbox.request_counts()
    statuses: Counter[str] = Counter()
    for per_service in counts["statuses"].values():
        statuses.update(per_service)
    return {
        "records": records,
        "requests": counts["total"],
        "requests_per_1000": round(counts["total"] * 1000 / max(records, 1), 3),
        "records_per_second": round(records / seconds, 1),
        "seconds": round(seconds, 2),
        "throttled": statuses.get("429", 0),
    }, result


#: records per upsert call: one page of the Dataverse source, as the engine passes them on
UPSERT_CALL = 5000


def _upsert(
    connector: Connector, entity: str, records: Sequence[Record], key: list[str]
) -> Counter[str]:
    size = UPSERT_CALL
    outcomes: Counter[str] = Counter()
    for start in range(0, len(records), size):
        results = connector.upsert(entity, records[start : start + size], key=key)
        outcomes.update(r.outcome.value for r in results)
    return outcomes


def run(contacts: int, *, throttle_rate: float = 0.0) -> dict[str, Any]:
    """Measure requests per 1000 records and records/s for reads and upserts of ``contacts``."""
    with tempfile.TemporaryDirectory() as scratch, running_sandbox(Path(scratch)) as sandbox:
        seed_sales(sandbox.data_dir, accounts=max(contacts // 10, 1), contacts=contacts)
        common: dict[str, Any] = {"retry": {"base_delay_seconds": 0.05, "attempts": 30}}
        opened: list[Connector] = []

        def connect(kind: str, entity: str, **settings: Any) -> Connector:
            connector: Connector
            if kind == "finops":
                connector = open_connection(FinOpsConnection(url=sandbox.finops, **common))
            else:
                url = sandbox.service_url(kind)
                config = DataverseConnection(url=url, **common, **settings)
                connector = open_connection(config)
            connector.describe(entity)  # $metadata: once per connector, not measured
            opened.append(connector)
            return connector

        sales = connect("sales", "contacts")
        if throttle_rate:
            sandbox.set_faults(seed=1, rate_429=throttle_rate, retry_after=0)
        report: dict[str, Any] = {"contacts": contacts, "throttle_rate": throttle_rate}
        try:
            report["read_sales"], read = _step(
                sandbox,
                contacts,
                lambda: [r for page in sales.read("contacts", SALES_FIELDS) for r in page],
            )
            report["read_sales_changes"], _ = _step(
                sandbox,
                contacts,
                lambda: [
                    r
                    for batch in sales.read_changes("contacts", SALES_FIELDS, checkpoint=None)
                    for r in batch.records
                ],
            )
            cds_key = ["Organization_OrganizationId", "ContactId"]
            fo_key = ["dataAreaId", "CustomerAccount"]
            targets = (
                ("cds", "contacts", [_to_cds(r) for r in read], cds_key),
                ("finops", "CustomersV2", [_to_finops(r) for r in read], fo_key),
            )
            for kind, entity, records, key in targets:
                for state in ("new", "unchanged"):
                    target = connect(kind, entity)
                    name = f"write_{kind}_{state}"
                    report[name], outcomes = _step(
                        sandbox, contacts, partial(_upsert, target, entity, records, key)
                    )
                    report[name]["outcomes"] = dict(outcomes)
            cds_records = targets[0][2]
            for state in ("new", "changed"):
                for mode, label in (("never", "batch"), ("auto", "bulk")):
                    records = [
                        dict(
                            r,
                            ContactId=f"{label}-{r['ContactId']}",
                            JobTitle=f"Changed {r['JobTitle']}"
                            if state == "changed"
                            else r["JobTitle"],
                        )
                        for r in cds_records
                    ]
                    target = connect("cds", "contacts", bulk_messages=mode)
                    name = f"cds_{state}_{label}"
                    report[name], outcomes = _step(
                        sandbox, contacts, partial(_upsert, target, "contacts", records, cds_key)
                    )
                    report[name]["outcomes"] = dict(outcomes)
        finally:
            for connector in opened:
                connector.close()
        return report


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    print(json.dumps(run(size, throttle_rate=rate), indent=2))
