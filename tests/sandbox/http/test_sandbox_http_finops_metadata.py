"""F&O's /Metadata service and F&O's $metadata, as F&O answers them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from integrator.sandbox.testing import SandboxHandle

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

PROPERTY_FIELDS = {
    "Name",
    "TypeName",
    "DataType",
    "LabelId",
    "IsKey",
    "IsMandatory",
    "ConfigurationEnabled",
    "AllowEdit",
    "AllowEditOnCreate",
    "IsDimension",
    "DimensionRelation",
    "IsDynamicDimension",
    "DimensionLegalEntityProperty",
    "DimensionTypeProperty",
}


def _root(sandbox: SandboxHandle) -> str:
    return f"{sandbox.url}/finops/Metadata/"


def _get(sandbox: SandboxHandle, path: str, **params: str) -> httpx.Response:
    return httpx.get(_root(sandbox) + path, params=params or None, timeout=30)


def _ok(sandbox: SandboxHandle, path: str, **params: str) -> dict[str, Any]:
    response = _get(sandbox, path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_data_entities_list_every_entity_with_its_public_names(
    sandbox_session: SandboxHandle,
) -> None:
    body = _ok(sandbox_session, "DataEntities")

    assert body["@odata.context"] == f"{_root(sandbox_session)}$metadata#DataEntities"
    by_collection = {e["PublicCollectionName"]: e for e in body["value"]}
    assert set(by_collection) >= {"CustomersV2", "CDSContactPersons", "CustomerGroups"}
    customers = by_collection["CustomersV2"]
    assert customers == {
        "Name": "CustCustomerV2Entity",
        "PublicEntityName": "CustomerV2",
        "PublicCollectionName": "CustomersV2",
        "LabelId": customers["LabelId"],
        "DataServiceEnabled": True,
        "DataManagementEnabled": True,
        "EntityCategory": "Master",
        "IsReadOnly": False,
    }
    assert customers["LabelId"].startswith("@")


def test_data_entity_by_key_and_filters_as_clients_send_them(
    sandbox_session: SandboxHandle,
) -> None:
    one = _ok(sandbox_session, "DataEntities('CustCustomerV2Entity')")
    assert one["@odata.context"].endswith("$metadata#DataEntities/$entity")
    assert one["PublicCollectionName"] == "CustomersV2"

    # d365fo-client's search: contains(tolower(Name), ...) and an enum literal
    found = _ok(
        sandbox_session,
        "DataEntities",
        **{
            "$filter": "contains(tolower(Name), 'customer') and EntityCategory eq "
            "Microsoft.Dynamics.Metadata.EntityCategory'Master' and DataServiceEnabled eq true"
        },
    )
    assert [e["Name"] for e in found["value"]] == ["CustCustomerV2Entity"]
    # string comparison is exact here: clients lower-case to match loosely
    assert (
        _ok(sandbox_session, "DataEntities", **{"$filter": "Name eq 'custcustomerv2entity'"})[
            "value"
        ]
        == []
    )
    by_collection = _ok(
        sandbox_session, "DataEntities", **{"$filter": "PublicCollectionName eq 'CustomersV2'"}
    )
    assert [e["PublicEntityName"] for e in by_collection["value"]] == ["CustomerV2"]


def test_public_entity_by_name_has_properties_with_mandatory_keys_and_edit_rights(
    sandbox_session: SandboxHandle,
) -> None:
    body = _ok(sandbox_session, "PublicEntities('CustomerV2')")

    assert body["@odata.context"] == f"{_root(sandbox_session)}$metadata#PublicEntities/$entity"
    assert body["Name"] == "CustomerV2"
    assert body["EntitySetName"] == "CustomersV2"
    assert body["IsReadOnly"] is False and body["ConfigurationEnabled"] is True
    assert body["NavigationProperties"] == [] and body["PropertyGroups"] == []
    props = {p["Name"]: p for p in body["Properties"]}
    assert all(set(p) == PROPERTY_FIELDS for p in props.values())
    account = props["CustomerAccount"]
    assert (account["IsKey"], account["IsMandatory"]) == (True, True)
    assert (account["AllowEdit"], account["AllowEditOnCreate"]) == (False, True)
    assert (account["TypeName"], account["DataType"]) == ("Edm.String", "String")
    group = props["CustomerGroupId"]
    assert (group["IsKey"], group["IsMandatory"], group["AllowEdit"]) == (False, True, True)
    assert props["PersonLastName"]["IsMandatory"] is False
    maintained = props["IsExternallyMaintained"]
    assert maintained["TypeName"] == "Microsoft.Dynamics.DataEntities.NoYes"
    assert maintained["DataType"] == "Enum"
    assert [n for n, p in props.items() if p["IsKey"]] == ["dataAreaId", "CustomerAccount"]


def test_public_entities_are_keyed_by_public_name_and_found_by_entity_set_name(
    sandbox_session: SandboxHandle,
) -> None:
    # the key is the public entity name; the entity set name is a property to filter on
    missing = _get(sandbox_session, "PublicEntities('CustomersV2')")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"]

    found = _ok(
        sandbox_session, "PublicEntities", **{"$filter": "EntitySetName eq 'CDSContactPersons'"}
    )
    assert [e["Name"] for e in found["value"]] == ["CDSContactPerson"]
    keys = [p["Name"] for p in found["value"][0]["Properties"] if p["IsKey"]]
    assert keys == ["dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"]


def test_select_top_skip_count_and_orderby(sandbox_session: SandboxHandle) -> None:
    body = _ok(
        sandbox_session,
        "PublicEntities",
        **{"$select": "Name,EntitySetName", "$orderby": "Name", "$top": "2", "$count": "true"},
    )
    assert body["@odata.context"].endswith("$metadata#PublicEntities(Name,EntitySetName)")
    all_names = sorted(e["PublicEntityName"] for e in _ok(sandbox_session, "DataEntities")["value"])
    assert body["@odata.count"] == len(all_names)
    assert body["value"] == [
        {"Name": all_names[0], "EntitySetName": body["value"][0]["EntitySetName"]},
        {"Name": all_names[1], "EntitySetName": body["value"][1]["EntitySetName"]},
    ]
    skipped = _ok(
        sandbox_session, "PublicEntities", **{"$select": "Name", "$orderby": "Name", "$skip": "1"}
    )
    assert [e["Name"] for e in skipped["value"]] == all_names[1:]
    # d365fo-client's connection test
    assert len(_ok(sandbox_session, "PublicEntities", **{"$top": "1"})["value"]) == 1


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("DataEntities", {"$expand": "Properties"}, 400),
        ("DataEntities", {"$search": "cust"}, 400),
        ("DataEntities", {"$select": "Nope"}, 400),
        ("DataEntities", {"$filter": "Nope eq 1"}, 400),
        ("DataEntities", {"$filter": "Name eq"}, 400),
        ("DataEntities", {"$top": "-1"}, 400),
        ("PublicEnumerations('NoSuchEnum')", {}, 404),
        ("Nothing", {}, 404),
    ],
)
def test_refusals(
    sandbox_session: SandboxHandle, path: str, params: dict[str, str], status: int
) -> None:
    response = _get(sandbox_session, path, **params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


def test_service_document_lists_the_collections(sandbox_session: SandboxHandle) -> None:
    for url in (_root(sandbox_session), _root(sandbox_session).rstrip("/")):
        body = httpx.get(url, timeout=30).json()
        assert body["@odata.context"] == f"{_root(sandbox_session)}$metadata"
        assert [(e["name"], e["kind"]) for e in body["value"]] == [
            ("DataEntities", "EntitySet"),
            ("PublicEntities", "EntitySet"),
            ("PublicEnumerations", "EntitySet"),
            ("Labels", "EntitySet"),
        ]


def test_metadata_is_read_only(sandbox_session: SandboxHandle) -> None:
    response = httpx.post(_root(sandbox_session) + "DataEntities", json={}, timeout=30)
    assert response.status_code == 405


def test_public_enumerations_with_member_values(sandbox_session: SandboxHandle) -> None:
    body = _ok(sandbox_session, "PublicEnumerations('NoYes')")

    assert body["@odata.context"] == (
        f"{_root(sandbox_session)}$metadata#PublicEnumerations/$entity"
    )
    assert body["Name"] == "NoYes"
    members = [(m["Name"], m["Value"], m["ConfigurationEnabled"]) for m in body["Members"]]
    assert members == [("No", 0, True), ("Yes", 1, True)]
    assert all(m["LabelId"].startswith("@") for m in body["Members"])
    listed = _ok(sandbox_session, "PublicEnumerations", **{"$select": "Name,LabelId"})
    assert {e["Name"] for e in listed["value"]} >= {"NoYes"}
    assert all(set(e) == {"Name", "LabelId"} for e in listed["value"])


def test_labels_resolve_the_label_ids(sandbox_session: SandboxHandle) -> None:
    label_id = _ok(sandbox_session, "PublicEnumerations('NoYes')")["Members"][1]["LabelId"]

    body = _ok(sandbox_session, f"Labels(Id='{label_id}',Language='en-US')")
    assert body == {
        "@odata.context": f"{_root(sandbox_session)}$metadata#Labels/$entity",
        "Id": label_id,
        "Language": "en-US",
        "Value": "Yes",
    }
    assert _get(sandbox_session, "Labels(Id='@NoSuchLabel',Language='en-US')").status_code == 404


def test_metadata_requests_are_counted_and_faulted_as_finops(sandbox: SandboxHandle) -> None:
    sandbox.reset_request_counts()
    _ok(sandbox, "PublicEntities", **{"$top": "1"})
    assert sandbox.request_counts()["requests"]["finops"] == {"GET": 1}

    sandbox.set_faults(rate_429=1.0, services=["finops"])
    assert _get(sandbox, "DataEntities").status_code == 429


# ---- $metadata ---------------------------------------------------------------------------------


def _schema(sandbox: SandboxHandle) -> ET.Element:
    response = httpx.get(sandbox.finops + "$metadata", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    schemas = ET.fromstring(response.content).findall(f".//{EDM}Schema")
    assert len(schemas) == 1
    return schemas[0]


def test_finops_csdl_namespace_container_keys_and_types(sandbox_session: SandboxHandle) -> None:
    schema = _schema(sandbox_session)

    assert schema.get("Namespace") == "Microsoft.Dynamics.DataEntities"
    assert schema.get("Alias") is None
    container = schema.find(f"{EDM}EntityContainer")
    assert container is not None and container.get("Name") == "Resources"
    sets = {s.get("Name"): s.get("EntityType") for s in container.findall(f"{EDM}EntitySet")}
    assert sets["CustomersV2"] == "Microsoft.Dynamics.DataEntities.CustomerV2"
    customer = schema.find(f"{EDM}EntityType[@Name='CustomerV2']")
    assert customer is not None
    keys = [ref.get("Name") for ref in customer.findall(f"{EDM}Key/{EDM}PropertyRef")]
    assert keys == ["dataAreaId", "CustomerAccount"]
    props = {p.get("Name"): p.attrib for p in customer.findall(f"{EDM}Property")}
    assert props["CustomerAccount"] == {
        "Name": "CustomerAccount",
        "Type": "Edm.String",
        "Nullable": "false",
        "MaxLength": "20",
    }
    # mandatory is not in F&O's CSDL: a mandatory string is as nullable as any other
    assert props["CustomerGroupId"] == {
        "Name": "CustomerGroupId",
        "Type": "Edm.String",
        "MaxLength": "10",
    }
    # an enum is an X++ value type: never null
    assert props["IsExternallyMaintained"] == {
        "Name": "IsExternallyMaintained",
        "Type": "Microsoft.Dynamics.DataEntities.NoYes",
        "Nullable": "false",
    }


def test_finops_csdl_enums_and_no_dataverse_annotations(sandbox_session: SandboxHandle) -> None:
    schema = _schema(sandbox_session)

    no_yes = schema.find(f"{EDM}EnumType[@Name='NoYes']")
    assert no_yes is not None
    assert [(m.get("Name"), m.get("Value")) for m in no_yes.findall(f"{EDM}Member")] == [
        ("No", "0"),
        ("Yes", "1"),
    ]
    terms = {a.get("Term") for a in schema.iter(f"{EDM}Annotation")}
    assert terms == set()
    assert schema.find(f".//{EDM}Action") is None
