"""$metadata parsing: Dataverse's own CSDL shapes, and garbage."""

from __future__ import annotations

import pytest

from integrator.connectors.http.metadata import parse_metadata
from integrator.errors import BadResponseError

# The shape Dataverse itself answers: an alias, a base type, community alternate keys.
DATAVERSE_CSDL = b"""<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices>
  <Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="crmbaseentity" Abstract="true"/>
   <EntityType Name="account" BaseType="mscrm.crmbaseentity">
    <Key><PropertyRef Name="accountid"/></Key>
    <Property Name="accountid" Type="Edm.Guid"/>
    <Property Name="accountnumber" Type="Edm.String" MaxLength="20"/>
   </EntityType>
   <EntityType Name="contact" BaseType="mscrm.crmbaseentity">
    <Key><PropertyRef Name="contactid"/></Key>
    <Property Name="contactid" Type="Edm.Guid"/>
    <Property Name="lastname" Type="Edm.String" MaxLength="50"/>
    <Property Name="msdynce_contactnumber" Type="Edm.String" MaxLength="100"/>
    <Property Name="creditlimit" Type="Edm.Decimal"/>
    <Property Name="_parentcustomerid_value" Type="Edm.Guid"/>
    <NavigationProperty Name="parentcustomerid_account" Type="mscrm.account" Nullable="false">
     <ReferentialConstraint Property="_parentcustomerid_value" ReferencedProperty="accountid"/>
    </NavigationProperty>
    <NavigationProperty Name="contact_customer_contacts" Type="Collection(mscrm.contact)"/>
    <Annotation Term="OData.Community.Keys.V1.AlternateKeys">
     <Collection><Record Type="OData.Community.Keys.V1.AlternateKey">
      <PropertyValue Property="Key"><Collection>
       <Record Type="OData.Community.Keys.V1.PropertyRef">
        <PropertyValue Property="Alias" String="msdynce_contactnumber"/>
        <PropertyValue Property="Name" PropertyPath="msdynce_contactnumber"/>
       </Record></Collection></PropertyValue>
     </Record></Collection>
    </Annotation>
   </EntityType>
   <EntityContainer Name="System">
    <EntitySet Name="accounts" EntityType="Microsoft.Dynamics.CRM.account"/>
    <EntitySet Name="contacts" EntityType="Microsoft.Dynamics.CRM.contact"/>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>"""


def test_dataverse_csdl_gives_fields_keys_alternate_keys_and_lookups() -> None:
    service = parse_metadata(DATAVERSE_CSDL, url="https://org/api/data/v9.2/$metadata")
    contacts = service.entity_sets["contacts"]

    assert contacts.info.key == ("contactid",)
    assert contacts.info.alternate_keys == (("msdynce_contactnumber",),)
    assert contacts.info.fields["lastname"].max_length == 50
    assert contacts.info.fields["creditlimit"].type == "decimal"
    lookup = contacts.info.fields["parentcustomerid"]
    assert lookup.type == "lookup" and lookup.lookup_targets == ("account",)
    assert contacts.properties["parentcustomerid"] == "_parentcustomerid_value"
    assert [n.name for n in contacts.navigations_of("parentcustomerid")] == [
        "parentcustomerid_account"
    ]
    assert service.set_of_type["account"] == "accounts"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html><body>Sign in</body></html>", "not a CSDL"),
        (b"<edmx:Edmx", "not well-formed XML"),
        (b'{"value": []}', "not well-formed XML"),
        (
            b'<Edmx xmlns="http://docs.oasis-open.org/odata/ns/edmx"><DataServices/></Edmx>',
            "no entity sets",
        ),
    ],
)
def test_garbage_metadata_is_a_bad_response(body: bytes, words: str) -> None:
    with pytest.raises(BadResponseError) as caught:
        parse_metadata(body, url="https://org/api/data/v9.2/$metadata")

    assert words in str(caught.value) and "https://org/api/data/v9.2/$metadata" in str(caught.value)
