"""$metadata: a CSDL document with entity sets, properties, keys, alternate keys, required."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from integrator.sandbox.testing import SandboxHandle

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _schema(url: str) -> ET.Element:
    r = httpx.get(url + "$metadata", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    schema = root.find(f".//{EDM}Schema")
    assert schema is not None
    return schema


def _entity_type(schema: ET.Element, name: str) -> ET.Element:
    found = schema.find(f"{EDM}EntityType[@Name='{name}']")
    assert found is not None, name
    return found


def test_sales_contact_type(sandbox_session: SandboxHandle) -> None:
    """Shaped as Dataverse writes it (powerapps-docs .../webapi/web-api-service-documents.md)."""
    schema = _schema(sandbox_session.sales)
    assert schema.get("Namespace") == "Microsoft.Dynamics.CRM"
    assert schema.get("Alias") == "mscrm"
    contact = _entity_type(schema, "contact")
    assert contact.get("BaseType") == "mscrm.crmbaseentity"
    assert _entity_type(schema, "crmbaseentity").get("Abstract") == "true"
    keys = [ref.get("Name") for ref in contact.findall(f"{EDM}Key/{EDM}PropertyRef")]
    assert keys == ["contactid"]
    props = {p.get("Name"): p for p in contact.findall(f"{EDM}Property")}
    assert props["lastname"].get("Type") == "Edm.String"
    assert props["lastname"].get("Unicode") == "false"
    # Dataverse writes neither lengths nor nullability: they live in EntityDefinitions
    assert props["lastname"].get("MaxLength") is None
    assert props["contactid"].get("Nullable") is None
    assert props["accountrolecode"].get("Type") == "Edm.Int32"
    assert props["msdynce_isactivecustomer"].get("Type") == "Edm.Boolean"
    assert props["_parentcustomerid_value"].get("Type") == "Edm.Guid"
    assert props["createdon"].get("Type") == "Edm.DateTimeOffset"
    navs = {n.get("Name"): n for n in contact.findall(f"{EDM}NavigationProperty")}
    assert navs["parentcustomerid_account"].get("Type") == "mscrm.account"
    constraint = navs["parentcustomerid_account"].find(f"{EDM}ReferentialConstraint")
    assert constraint is not None
    assert constraint.get("Property") == "_parentcustomerid_value"
    assert constraint.get("ReferencedProperty") == "accountid"
    alternate = contact.find(f"{EDM}Annotation[@Term='OData.Community.Keys.V1.AlternateKeys']")
    assert alternate is not None
    records = [r.get("Type") for r in alternate.iter(f"{EDM}Record")]
    assert records == [
        "OData.Community.Keys.V1.AlternateKey",
        "OData.Community.Keys.V1.PropertyRef",
    ]
    paths = [
        v.get("PropertyPath")
        for v in alternate.iter(f"{EDM}PropertyValue")
        if v.get("Property") == "Name"
    ]
    assert paths == ["msdynce_contactnumber"]
    sets = {s.get("Name"): s.get("EntityType") for s in schema.iter(f"{EDM}EntitySet")}
    assert sets["contacts"] == "Microsoft.Dynamics.CRM.contact"


def test_dataverse_metadata_has_no_invented_annotations(sandbox_session: SandboxHandle) -> None:
    """Required, computed and allowed values are not in Dataverse's CSDL; nor Core keys."""
    for root in (sandbox_session.sales, sandbox_session.cds):
        r = httpx.get(root + "$metadata", timeout=30)
        terms = {a.get("Term") for a in ET.fromstring(r.content).iter(f"{EDM}Annotation")}
        assert terms <= {
            "OData.Community.Keys.V1.AlternateKeys",
            "Org.OData.Capabilities.V1.ChangeTracking",
        }, terms
        assert b"MaxLength" not in r.content
        references = ET.fromstring(r.content).findall(
            "{http://docs.oasis-open.org/odata/ns/edmx}Reference"
        )
        assert {ref.get("Uri") for ref in references} == {
            "http://vocabularies.odata.org/OData.Community.Keys.V1.xml",
            "http://vocabularies.odata.org/OData.Community.Display.V1.xml",
        }
