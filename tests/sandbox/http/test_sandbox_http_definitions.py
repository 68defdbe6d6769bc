"""``EntityDefinitions``: tables, columns, type casts, option sets and keys, shaped as Dataverse
shapes them (powerapps-docs .../webapi/query-metadata-web-api.md and the metadata entity type
reference). Every request here is one Microsoft's docs or Microsoft's Python SDK sends."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from integrator.sandbox.testing import SandboxHandle, running_sandbox

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CONTACT = "EntityDefinitions(LogicalName='contact')"


def get(root: str, path: str, status: int = 200) -> Any:
    r = httpx.get(root + path, timeout=30)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.headers["content-type"].startswith("application/json")
        assert r.headers["odata-version"] == "4.0"
    return r.json()


def assert_label(value: Any, text: str) -> None:
    assert value["UserLocalizedLabel"]["Label"] == text
    assert value["UserLocalizedLabel"]["LanguageCode"] == 1033
    assert [lab["Label"] for lab in value["LocalizedLabels"]] == [text]
    assert GUID.match(value["LocalizedLabels"][0]["MetadataId"])


def test_sdk_entity_set_lookup_filters_by_logical_name(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.sales,
        "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute"
        "&$filter=LogicalName eq 'contact'",
    )
    assert body["@odata.context"] == (
        f"{sandbox_session.sales}$metadata#EntityDefinitions"
        "(LogicalName,EntitySetName,PrimaryIdAttribute)"
    )
    [contact] = body["value"]
    assert set(contact) == {"LogicalName", "EntitySetName", "PrimaryIdAttribute", "MetadataId"}
    assert contact["EntitySetName"] == "contacts"
    assert contact["PrimaryIdAttribute"] == "contactid"
    assert GUID.match(contact["MetadataId"])
    assert (
        get(sandbox_session.sales, "EntityDefinitions?$filter=LogicalName eq 'nope'")["value"] == []
    )


def test_filter_with_or_entity_set_name_and_private_tables(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.sales,
        "EntityDefinitions?$select=LogicalName&$filter=IsPrivate eq false and "
        "(EntitySetName eq 'accounts' or LogicalName eq 'contact')",
    )
    assert sorted(e["LogicalName"] for e in body["value"]) == ["account", "contact"]
    every = get(sandbox_session.sales, "EntityDefinitions?$select=LogicalName")["value"]
    assert {e["LogicalName"] for e in every} == {
        "account",
        "contact",
        "quote",
        "salesorder",
        "invoice",
    }
    owned = get(
        sandbox_session.sales,
        "EntityDefinitions?$select=LogicalName"
        "&$filter=OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
    )
    assert len(owned["value"]) == 5
    managed = get(
        sandbox_session.sales,
        "EntityDefinitions?$select=LogicalName&$filter=CanCreateAttributes/Value eq true",
    )
    assert len(managed["value"]) == 5


def test_one_table_by_logical_name_and_by_metadata_id(sandbox_session: SandboxHandle) -> None:
    body = get(sandbox_session.sales, CONTACT)
    assert body["@odata.context"].endswith("$metadata#EntityDefinitions/$entity")
    assert body["LogicalName"] == "contact"
    assert body["SchemaName"] == "Contact"
    assert body["EntitySetName"] == "contacts"
    assert body["LogicalCollectionName"] == "contacts"
    assert body["PrimaryIdAttribute"] == "contactid"
    assert body["PrimaryNameAttribute"] == "fullname"
    assert body["ObjectTypeCode"] == 2
    assert body["IsCustomEntity"] is False
    assert body["ChangeTrackingEnabled"] is True
    assert_label(body["DisplayName"], "Contact")
    assert_label(body["DisplayCollectionName"], "Contacts")
    assert "Attributes" not in body  # navigation properties only when expanded
    by_id = get(
        sandbox_session.sales, f"EntityDefinitions({body['MetadataId']})?$select=SchemaName"
    )
    assert by_id == {
        "@odata.context": f"{sandbox_session.sales}$metadata#EntityDefinitions(SchemaName)/$entity",
        "SchemaName": "Contact",
        "MetadataId": body["MetadataId"],
    }


def test_metadata_ids_are_stable_across_restarts(tmp_path: Any) -> None:
    with running_sandbox(tmp_path / "a") as first:
        ids = get(first.sales, "EntityDefinitions?$select=LogicalName")["value"]
        attribute = get(first.sales, f"{CONTACT}/Attributes(LogicalName='lastname')")
    with running_sandbox(tmp_path / "b") as second:
        assert get(second.sales, "EntityDefinitions?$select=LogicalName")["value"] == ids
        again = get(second.sales, f"{CONTACT}/Attributes(LogicalName='lastname')")
        assert again["MetadataId"] == attribute["MetadataId"]


def test_expand_attributes_and_keys(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.sales,
        f"{CONTACT}?$select=LogicalName&$expand=Attributes($select=LogicalName,RequiredLevel;"
        "$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'),Keys",
    )
    assert body["@odata.context"].endswith(
        "#EntityDefinitions(LogicalName,Attributes(LogicalName,RequiredLevel),Keys())/$entity"
    )
    assert body["Attributes"] == [
        {
            "@odata.type": "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            "LogicalName": "accountrolecode",
            "RequiredLevel": {
                "Value": "None",
                "CanBeChanged": True,
                "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
            },
            "MetadataId": body["Attributes"][0]["MetadataId"],
        }
    ]
    [key] = body["Keys"]
    assert key["KeyAttributes"] == ["msdynce_contactnumber"]
    assert key["EntityKeyIndexStatus"] == "Active"
    # expanded attributes hold only AttributeMetadata's own properties (no MaxLength)
    full = get(sandbox_session.sales, f"{CONTACT}?$select=LogicalName&$expand=Attributes")
    lastname = next(a for a in full["Attributes"] if a["LogicalName"] == "lastname")
    assert "MaxLength" not in lastname
    assert lastname["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata"


def test_attributes_of_a_table(sandbox_session: SandboxHandle) -> None:
    body = get(sandbox_session.sales, f"{CONTACT}/Attributes")
    table_id = get(sandbox_session.sales, f"{CONTACT}?$select=LogicalName")["MetadataId"]
    assert body["@odata.context"] == (
        f"{sandbox_session.sales}$metadata#EntityDefinitions({table_id})/Attributes"
    )
    by_name = {a["LogicalName"]: a for a in body["value"]}
    lastname = by_name["lastname"]
    assert lastname["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata"
    assert lastname["AttributeType"] == "String"
    assert lastname["AttributeTypeName"] == {"Value": "StringType"}
    assert lastname["SchemaName"] == "LastName"
    assert lastname["MaxLength"] == 50
    assert lastname["IsValidForCreate"] and lastname["IsValidForUpdate"]
    assert lastname["IsValidForRead"]
    assert lastname["AttributeOf"] is None
    assert_label(lastname["DisplayName"], "Last Name")
    contactid = by_name["contactid"]
    assert contactid["AttributeType"] == "Uniqueidentifier"
    assert contactid["IsPrimaryId"] is True
    assert contactid["RequiredLevel"]["Value"] == "SystemRequired"
    assert contactid["IsValidForUpdate"] is False
    assert by_name["fullname"]["IsPrimaryName"] is True
    assert not by_name["fullname"]["IsValidForCreate"]
    assert not by_name["fullname"]["IsValidForUpdate"]
    assert by_name["statecode"]["AttributeType"] == "State"
    assert by_name["statecode"]["IsValidForCreate"] is False
    assert by_name["statecode"]["IsValidForUpdate"] is True
    assert by_name["versionnumber"]["AttributeType"] == "BigInt"
    assert by_name["parentcustomerid"]["AttributeType"] == "Customer"
    assert by_name["parentcustomeridtype"]["AttributeOf"] == "parentcustomerid"
    assert by_name["msdynce_contactnumber"]["IsCustomAttribute"] is True
    assert by_name["firstname"]["IsCustomAttribute"] is False


def test_attribute_filters(sandbox_session: SandboxHandle) -> None:
    picklists = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes?$select=LogicalName"
        "&$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'",
    )
    assert [a["LogicalName"] for a in picklists["value"]] == ["accountrolecode"]
    read_only = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes?$select=LogicalName"
        "&$filter=IsValidForCreate eq false and IsValidForUpdate eq false and AttributeOf eq null",
    )
    assert {a["LogicalName"] for a in read_only["value"]} == {
        "fullname",
        "createdon",
        "modifiedon",
        "versionnumber",
    }
    required = get(
        sandbox_session.cds,
        "EntityDefinitions(LogicalName='account')/Attributes?$select=SchemaName&$filter="
        "RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'SystemRequired'",
    )
    assert [a["SchemaName"] for a in required["value"]] == [
        "Organization_OrganizationId",
        "AccountId",
    ]
    business = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes?$select=LogicalName&$filter="
        "RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'ApplicationRequired'",
    )
    assert [a["LogicalName"] for a in business["value"]] == ["lastname"]


def test_one_attribute(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes(LogicalName='firstname')?$select=LogicalName,RequiredLevel",
    )
    assert body["@odata.context"].endswith("/Attributes(LogicalName,RequiredLevel)/$entity")
    assert body["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata"
    assert body["LogicalName"] == "firstname"
    by_id = get(sandbox_session.sales, f"{CONTACT}/Attributes({body['MetadataId']})")
    assert by_id["MaxLength"] == 50


def test_picklist_cast_with_option_set(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet($select=Options)",
    )
    assert (
        "/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,"
        in (body["@odata.context"])
    )
    [role] = body["value"]
    assert "@odata.type" not in role  # of the type the URL casts to
    assert role["LogicalName"] == "accountrolecode"
    options = role["OptionSet"]["Options"]
    assert [o["Value"] for o in options] == [1, 2, 3]
    assert_label(options[0]["Label"], "Decision Maker")
    assert set(role["OptionSet"]) == {"Options", "MetadataId"}
    # the option set of one attribute, by its path
    option_set = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes(LogicalName='accountrolecode')"
        "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet?$select=Options",
    )
    assert option_set["@odata.context"].endswith("/OptionSet(Options)/$entity")
    assert [o["Value"] for o in option_set["Options"]] == [1, 2, 3]


def test_string_lookup_boolean_state_and_status_casts(sandbox_session: SandboxHandle) -> None:
    strings = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata"
        "?$select=LogicalName,MaxLength",
    )
    lengths = {a["LogicalName"]: a["MaxLength"] for a in strings["value"]}
    assert lengths["lastname"] == 50
    assert lengths["address1_line1"] == 250
    lookups = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata"
        "?$select=LogicalName,Targets",
    )
    assert [(a["LogicalName"], a["Targets"]) for a in lookups["value"]] == [
        ("parentcustomerid", ["account", "contact"])
    ]
    booleans = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.BooleanAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet($select=TrueOption,FalseOption)",
    )
    flags = {a["LogicalName"]: a["OptionSet"] for a in booleans["value"]}
    assert set(flags) == {"msdynce_isactivecustomer", "msdynce_iscompanyanaccount"}
    active = flags["msdynce_isactivecustomer"]
    assert active["TrueOption"]["Value"] == 1
    assert_label(active["TrueOption"]["Label"], "Yes")
    assert active["FalseOption"]["Value"] == 0
    states = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.StateAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet",
    )
    [state] = states["value"]
    assert [(o["Value"], o["DefaultStatus"]) for o in state["OptionSet"]["Options"]] == [
        (0, 1),
        (1, 2),
    ]
    statuses = get(
        sandbox_session.sales,
        f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet",
    )
    assert statuses["value"] == []  # the sandbox's tables have no statuscode


def test_keys(sandbox_session: SandboxHandle) -> None:
    body = get(sandbox_session.sales, "EntityDefinitions(LogicalName='account')/Keys")
    assert "/Keys" in body["@odata.context"]
    [key] = body["value"]
    assert key["KeyAttributes"] == ["accountnumber"]
    assert key["EntityKeyIndexStatus"] == "Active"
    assert key["EntityLogicalName"] == "account"
    assert GUID.match(key["MetadataId"])
    assert isinstance(key["LogicalName"], str) and isinstance(key["SchemaName"], str)
    one = get(
        sandbox_session.sales,
        f"EntityDefinitions(LogicalName='account')/Keys({key['MetadataId']})?$select=SchemaName",
    )
    assert one["SchemaName"] == key["SchemaName"]
    assert get(sandbox_session.cds, "EntityDefinitions(LogicalName='contact')/Keys")["value"] == []


@pytest.mark.parametrize(
    ("path", "status", "code", "message"),
    [
        ("EntityDefinitions(LogicalName='nope')", 404, "0x80041102", "'nope'"),
        (f"{CONTACT}/Attributes(LogicalName='nope')", 404, "0x80041102", "'nope'"),
        (
            f"{CONTACT}/Attributes?$select=MaxLength",
            400,
            "0x80060888",
            "Could not find a property named 'MaxLength' on type "
            "'Microsoft.Dynamics.CRM.AttributeMetadata'",
        ),
        (
            "EntityDefinitions?$select=Nope",
            400,
            "0x80060888",
            "on type 'Microsoft.Dynamics.CRM.EntityMetadata'",
        ),
        ("EntityDefinitions?$filter=Nope eq 1", 400, "0x80060888", "'Nope'"),
        (
            f"{CONTACT}/Attributes?$expand=OptionSet",
            400,
            "0x80060888",
            "'OptionSet' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'",
        ),
        (
            f"{CONTACT}/Attributes?$filter=AttributeType eq "
            "Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
            400,
            "0x80060888",
            "incompatible types",
        ),
        (f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.EnumAttributeMetadata", 400, None, "cast"),
        (f"{CONTACT}/Attributes/Microsoft.Dynamics.CRM.Nope", 404, "0x80060888", "Nope"),
        (f"{CONTACT}/Nope", 404, "0x80060888", "'Nope'"),
        ("EntityDefinitions?$top=1", 400, "0x8006088a", "$top"),
        (f"{CONTACT}/Keys?$orderby=LogicalName", 400, "0x8006088a", "$orderby"),
    ],
)
def test_errors_as_dataverse_answers_them(
    sandbox_session: SandboxHandle, path: str, status: int, code: str | None, message: str
) -> None:
    body = get(sandbox_session.sales, path, status)
    assert set(body) == {"error"}
    if code is not None:
        assert body["error"]["code"] == code
    assert message in body["error"]["message"]


def test_definitions_are_read_only_and_dataverse_only(sandbox_session: SandboxHandle) -> None:
    r = httpx.post(sandbox_session.sales + "EntityDefinitions", json={}, timeout=30)
    assert r.status_code == 405
    assert httpx.get(sandbox_session.finops + "EntityDefinitions", timeout=30).status_code == 404


def test_cds_definitions_follow_the_seed_model(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.cds,
        "EntityDefinitions(LogicalName='contact')/Attributes/"
        "Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName"
        "&$expand=OptionSet($select=Options)",
    )
    [role] = body["value"]
    assert role["LogicalName"] == "PrimaryAccountRole"
    labels = [o["Label"]["UserLocalizedLabel"]["Label"] for o in role["OptionSet"]["Options"]]
    assert labels == ["DecisionMaker", "Employee", "Influencer"]


def test_relationships_of_a_table_as_the_sdk_lists_them(sandbox_session: SandboxHandle) -> None:
    table_id = get(sandbox_session.sales, f"{CONTACT}?$select=LogicalName")["MetadataId"]
    root = f"EntityDefinitions({table_id})"
    many_to_one = get(sandbox_session.sales, f"{root}/ManyToOneRelationships")
    assert many_to_one["@odata.context"].endswith(f"({table_id})/ManyToOneRelationships")
    by_target = {r["ReferencedEntity"]: r for r in many_to_one["value"]}
    assert set(by_target) == {"account", "contact"}
    account = by_target["account"]
    assert account["ReferencingEntity"] == "contact"
    assert account["ReferencingAttribute"] == "parentcustomerid"
    assert account["ReferencedAttribute"] == "accountid"
    assert account["ReferencingEntityNavigationPropertyName"] == "parentcustomerid_account"
    assert account["RelationshipType"] == "OneToManyRelationship"
    one_to_many = get(
        sandbox_session.sales,
        "EntityDefinitions(LogicalName='account')/OneToManyRelationships"
        "?$select=SchemaName&$filter=ReferencingEntity eq 'contact'",
    )
    assert [r["SchemaName"] for r in one_to_many["value"]] == [account["SchemaName"]]
    assert get(sandbox_session.sales, f"{root}/ManyToManyRelationships")["value"] == []
    refused = get(
        sandbox_session.sales, f"{root}/ManyToManyRelationships?$select=ReferencedEntity", 400
    )
    assert (
        "'ReferencedEntity' on type 'Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata'"
        in (refused["error"]["message"])
    )


def test_relationship_definitions(sandbox_session: SandboxHandle) -> None:
    body = get(
        sandbox_session.sales,
        "RelationshipDefinitions?$filter=SchemaName eq 'contact_parentcustomerid_accounts'",
    )
    [relationship] = body["value"]
    assert relationship["@odata.type"] == "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"
    assert relationship["ReferencedEntity"] == "account"
    by_id = get(
        sandbox_session.sales,
        f"RelationshipDefinitions({relationship['MetadataId']})?$select=SchemaName",
    )
    assert by_id["SchemaName"] == "contact_parentcustomerid_accounts"
    # without a cast only RelationshipMetadataBase's properties can be selected
    get(sandbox_session.sales, "RelationshipDefinitions?$select=ReferencedEntity", 400)
    cast = get(
        sandbox_session.sales,
        "RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"
        "?$select=ReferencedEntity&$filter=ReferencingEntity eq 'quote'",
    )
    assert sorted(r["ReferencedEntity"] for r in cast["value"]) == ["account", "contact"]
    assert "@odata.type" not in cast["value"][0]


def _metadata_changes(root: str, query: dict[str, Any], status: int = 200) -> Any:
    r = httpx.get(
        root + "RetrieveMetadataChanges(Query=@p1)", params={"@p1": json.dumps(query)}, timeout=30
    )
    assert r.status_code == status, r.text
    return r.json()


def test_retrieve_metadata_changes_with_derived_column_properties(
    sandbox_session: SandboxHandle,
) -> None:
    """The query the Python SDK sends for typed columns (query-schema-definitions.md)."""
    body = _metadata_changes(
        sandbox_session.sales,
        {
            "Properties": {"PropertyNames": ["LogicalName", "Attributes"]},
            "Criteria": {
                "Conditions": [
                    {
                        "PropertyName": "LogicalName",
                        "ConditionOperator": "Equals",
                        "Value": {"Type": "System.String", "Value": "contact"},
                    }
                ]
            },
            "AttributeQuery": {
                "Properties": {"PropertyNames": ["LogicalName", "MaxLength", "OptionSet"]},
                "Criteria": {
                    "FilterOperator": "And",
                    "Conditions": [
                        {
                            "PropertyName": "IsValidForCreate",
                            "ConditionOperator": "Equals",
                            "Value": {"Type": "System.Boolean", "Value": "True"},
                        }
                    ],
                },
            },
        },
    )
    assert body["@odata.context"].endswith(
        "$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse"
    )
    assert body["DeletedMetadata"] == {"Count": 0, "IsReadOnly": False, "Keys": [], "Values": []}
    assert isinstance(body["ServerVersionStamp"], str)
    [contact] = body["EntityMetadata"]
    assert contact["LogicalName"] == "contact"
    assert contact["EntitySetName"] is None  # not asked for: null, as Dataverse answers
    columns = {a["LogicalName"]: a for a in contact["Attributes"]}
    assert "fullname" not in columns and "createdon" not in columns  # not valid for create
    assert columns["lastname"]["MaxLength"] == 50
    assert columns["lastname"]["@odata.type"] == (
        "#Microsoft.Dynamics.CRM.ComplexStringAttributeMetadata"
    )
    assert columns["lastname"]["SchemaName"] is None
    options = columns["accountrolecode"]["OptionSet"]["Options"]
    assert [o["Value"] for o in options] == [1, 2, 3]


def test_retrieve_metadata_changes_or_in_and_errors(sandbox_session: SandboxHandle) -> None:
    body = _metadata_changes(
        sandbox_session.sales,
        {
            "Properties": {"PropertyNames": ["SchemaName"]},
            "Criteria": {
                "FilterOperator": "Or",
                "Conditions": [
                    {
                        "PropertyName": "LogicalName",
                        "ConditionOperator": "In",
                        "Value": {"Type": "System.String[]", "Value": "['account','quote']"},
                    },
                    {
                        "PropertyName": "ObjectTypeCode",
                        "ConditionOperator": "Equals",
                        "Value": {"Type": "System.Int32", "Value": "2"},
                    },
                ],
            },
        },
    )
    assert sorted(e["SchemaName"] for e in body["EntityMetadata"]) == [
        "Account",
        "Contact",
        "Quote",
    ]
    assert all("Attributes" not in e for e in body["EntityMetadata"])
    r = httpx.get(sandbox_session.sales + "RetrieveMetadataChanges(Query=@p1)", timeout=30)
    assert r.status_code == 400
    bad = {"Criteria": {"Conditions": [{"PropertyName": "Nope", "Value": {"Value": "x"}}]}}
    assert "'Nope'" in _metadata_changes(sandbox_session.sales, bad, 400)["error"]["message"]
