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
    schema = _schema(sandbox_session.sales)
    assert schema.get("Namespace") == "Microsoft.Dynamics.CRM"
    contact = _entity_type(schema, "contact")
    keys = [ref.get("Name") for ref in contact.findall(f"{EDM}Key/{EDM}PropertyRef")]
    assert keys == ["contactid"]
    props = {p.get("Name"): p for p in contact.findall(f"{EDM}Property")}
    assert props["lastname"].get("Type") == "Edm.String"
    assert props["lastname"].get("MaxLength") == "50"
    assert props["msdynce_isactivecustomer"].get("Type") == "Edm.Boolean"
    assert props["_parentcustomerid_value"].get("Type") == "Edm.Guid"
    assert props["createdon"].get("Type") == "Edm.DateTimeOffset"
    navs = {n.get("Name"): n.get("Type") for n in contact.findall(f"{EDM}NavigationProperty")}
    assert navs["parentcustomerid_account"] == "Microsoft.Dynamics.CRM.account"
    alternate = contact.find(f"{EDM}Annotation[@Term='Org.OData.Core.V1.AlternateKeys']")
    assert alternate is not None
    paths = [
        v.get("PropertyPath")
        for v in alternate.iter(f"{EDM}PropertyValue")
        if v.get("Property") == "Name"
    ]
    assert paths == ["msdynce_contactnumber"]
    sets = {s.get("Name"): s.get("EntityType") for s in schema.iter(f"{EDM}EntitySet")}
    assert sets["contacts"] == "Microsoft.Dynamics.CRM.contact"
