"""Names, labels and ids of the sandbox's table definitions: stable ``MetadataId`` GUIDs,
``Label`` complex types, managed properties, and the names Dataverse gives the Sales tables
(schema names, object type codes, option labels, required levels).

``Label`` follows ``webapi/reference/label`` and ``.../localizedlabel``; the managed property
shape follows ``.../booleanmanagedproperty`` and ``.../attributerequiredlevelmanagedproperty``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

__all__ = [
    "APPLICATION_REQUIRED",
    "LANGUAGE",
    "OBJECT_TYPE_CODES",
    "OPTION_LABELS",
    "SCHEMA_NAMES",
    "STATUS_OF_STATE",
    "label",
    "managed",
    "metadata_id",
    "words",
]

_NAMESPACE = uuid.UUID("6d0c7a4e-5a8e-4c59-9d0e-2f1c3b6a9e41")
#: the language of every label: English (United States)
LANGUAGE = 1033

#: Dataverse's type codes of the system tables the sandbox serves (entitymetadata ObjectTypeCode)
OBJECT_TYPE_CODES = {
    "account": 1,
    "contact": 2,
    "organization": 1019,
    "quote": 1084,
    "salesorder": 1088,
    "invoice": 1090,
}
#: schema names Dataverse gives the Sales columns (the logical name is their lower case)
SCHEMA_NAMES = {
    name.lower(): name
    for name in [
        "AccountId",
        "ContactId",
        "QuoteId",
        "SalesOrderId",
        "InvoiceId",
        "Name",
        "AccountNumber",
        "Telephone1",
        "Fax",
        "EMailAddress1",
        "WebSiteURL",
        "FirstName",
        "MiddleName",
        "LastName",
        "FullName",
        "MobilePhone",
        "JobTitle",
        "AccountRoleCode",
        "ParentCustomerId",
        "ParentCustomerIdType",
        "ParentCustomerIdName",
        "CustomerId",
        "CustomerIdType",
        "CustomerIdName",
        "Address1_Line1",
        "Address1_City",
        "Address1_StateOrProvince",
        "Address1_PostalCode",
        "Address1_County",
        "Address1_Country",
        "msdynce_ContactNumber",
        "msdynce_IsActiveCustomer",
        "msdynce_IsCompanyAnAccount",
        "StateCode",
        "CreatedOn",
        "ModifiedOn",
        "VersionNumber",
        "QuoteNumber",
        "OrderNumber",
        "InvoiceNumber",
        "TotalAmount",
        "SalesOrder",
        "Invoice",
        "Quote",
    ]
}
#: option labels of the sandbox's option sets (Dataverse's English labels)
OPTION_LABELS: dict[str, dict[int, str]] = {
    "accountrolecode": {1: "Decision Maker", 2: "Employee", 3: "Influencer"},
    "statecode": {0: "Active", 1: "Inactive"},
}
STATUS_OF_STATE = {0: 1, 1: 2}
#: Dataverse's "business required" system columns of the Sales tables served here (the
#: ``RequiredLevel`` Dataverse gives them). Like Dataverse, the sandbox's Web API does not
#: enforce this level; columns it does enforce (``Column.required``) are ``SystemRequired``.
APPLICATION_REQUIRED = {("sales", "contact", "lastname"), ("sales", "account", "name")}


def metadata_id(*parts: str) -> str:
    """A stable GUID for the definition named by ``parts``."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def words(schema_name: str) -> str:
    """A display name from a schema name: ``Address1_Line1`` → ``Address1 Line1``,
    ``msdynce_ContactNumber`` → ``Contact Number``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", schema_name.replace("_", " "))
    return re.sub(r"^msdynce ", "", spaced).strip()


def label(text: str | None, *parts: str) -> dict[str, Any]:
    """A ``Label`` complex type: one English ``LocalizedLabel``, also the user's label."""
    if text is None:
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    localized = {
        "Label": text,
        "LanguageCode": LANGUAGE,
        "IsManaged": True,
        "MetadataId": metadata_id("label", *parts),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": dict(localized)}


def managed(value: Any, logical_name: str, *, can_change: bool = False) -> dict[str, Any]:
    """A managed property (``BooleanManagedProperty`` and the like): value and changeability."""
    return {"Value": value, "CanBeChanged": can_change, "ManagedPropertyLogicalName": logical_name}
