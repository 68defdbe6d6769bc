"""Dataverse's formatted values: the ``<property>@OData.Community.Display.V1.FormattedValue``
strings the server adds when a client asks for them with ``Prefer: odata.include-annotations``.

What Dataverse formats (Web API "Select columns", section "Formatted values",
powerapps-docs/developer/data-platform/webapi/query/select-columns.md): the labels of choice,
yes/no and status columns, the primary name of a lookup's target, currency values with their
symbol (``$20,000.00``), numbers with group separators and dates in the user's time zone and
format (``4/7/2023 2:59 PM``). The sandbox has one user whose settings are English (United
States), US dollars and UTC; real organizations format for each user.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from integrator.sandbox.http.model import Property, ServedSet

__all__ = ["PRIMARY_NAME", "formatter", "primary_name_column"]

#: the labels of the option sets the sandbox serves, by (entity logical name, column); Sales'
#: standard labels (contact.accountrolecode, statecode of each table)
_OPTION_LABELS: dict[tuple[str, str], dict[int, str]] = {
    ("contact", "accountrolecode"): {1: "Decision Maker", 2: "Employee", 3: "Influencer"},
    ("account", "statecode"): {0: "Active", 1: "Inactive"},
    ("contact", "statecode"): {0: "Active", 1: "Inactive"},
    ("quote", "statecode"): {0: "Draft", 1: "Active", 2: "Won", 3: "Closed"},
    ("salesorder", "statecode"): {0: "Active", 1: "Submitted", 2: "Canceled", 3: "Fulfilled"},
    ("invoice", "statecode"): {0: "Active", 1: "Closed (deprecated)", 2: "Paid", 3: "Canceled"},
}
_STATE_LABELS = {0: "Active", 1: "Inactive"}

#: the primary name column of each table (what a lookup to it is formatted as)
PRIMARY_NAME: dict[str, str] = {
    "account": "name",
    "contact": "fullname",
    "quote": "name",
    "salesorder": "name",
    "invoice": "name",
    "organization": "Name",
}

#: decimal columns that are Money in Dataverse (formatted with the currency symbol)
_MONEY = {"totalamount"}
#: columns Dataverse returns without a formatted value although their type has one
_UNFORMATTED = {"versionnumber"}


def primary_name_column(target: ServedSet) -> str | None:
    """The column holding ``target``'s primary name, or ``None`` when it has none."""
    name = PRIMARY_NAME.get(target.entity_set.entity_type)
    return name if name is not None and name in target.properties else None


def _date_time(value: Any) -> str:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {half}"


def _yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def _money(value: Any) -> str:
    amount = float(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _decimal(value: Any) -> str:
    return f"{float(value):,.2f}"


def _whole(value: Any) -> str:
    return f"{int(value):,}"


def _labels(labels: dict[int, str]) -> Callable[[Any], str | None]:
    def label(value: Any) -> str | None:
        return labels.get(int(value))

    return label


def formatter(served: ServedSet, prop: Property) -> Callable[[Any], str | None] | None:
    """The function formatting a non-null value of ``prop`` as Dataverse does, or ``None`` when
    Dataverse gives the property no formatted value (strings, GUIDs, keys). Lookups are
    formatted from their target's primary name by the reader, not here."""
    if prop.lookup is not None or prop.name in _UNFORMATTED:
        return None
    column = prop.definition
    if prop.type == "boolean":
        return _yes_no
    if prop.type == "datetime":
        return _date_time
    if prop.type == "decimal":
        return _money if prop.name in _MONEY else _decimal
    if prop.type == "integer":
        if column is not None and column.options is not None:
            labels = _OPTION_LABELS.get((served.entity_set.entity_type, prop.name))
            if labels is None and prop.name == "statecode":
                labels = _STATE_LABELS
            if labels is None:
                return str
            return _labels(labels)
        return _whole
    return None
