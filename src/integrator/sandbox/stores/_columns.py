"""Short constructors for the column descriptions of the three services."""

from __future__ import annotations

from integrator.sandbox.schema import Column, Lookup

NO_YES = ("No", "Yes")
PARTY_TYPES = ("Organization", "Person")


def text(name: str, max_length: int, *, required: bool = False, read_only: bool = False) -> Column:
    """A string column of at most ``max_length`` characters."""
    return Column(name, "string", max_length=max_length, required=required, read_only=read_only)


def guid(name: str, *, required: bool = False) -> Column:
    """A GUID column (stored as 36 lower-case characters)."""
    return Column(name, "guid", required=required)


def integer(
    name: str, *, read_only: bool = False, options: tuple[int, ...] | None = None
) -> Column:
    """An integer column; ``options`` makes it a Dataverse option set."""
    return Column(name, "integer", read_only=read_only, options=options)


def boolean(name: str) -> Column:
    """A boolean column (stored as 0/1)."""
    return Column(name, "boolean")


def enum(
    name: str, enum_type: str, values: tuple[str, ...], *, default: str | None = None
) -> Column:
    """An enum column travelling as the member's name (``"Yes"``)."""
    return Column(name, "enum", enum_type=enum_type, enum_values=values, default=default)


def decimal(name: str) -> Column:
    """A decimal column (stored as REAL)."""
    return Column(name, "decimal")


def system_columns() -> tuple[Column, ...]:
    """The columns Dataverse maintains on every row: created/modified time and row version."""
    return (
        Column("createdon", "datetime", read_only=True),
        Column("modifiedon", "datetime", read_only=True),
        Column("versionnumber", "integer", read_only=True),
    )


def customer_lookup(name: str) -> Lookup:
    """A Dataverse *customer* lookup: points at an account or a contact."""
    return Lookup(
        name=name,
        column=name,
        targets=("account", "contact"),
        navigation={"account": f"{name}_account", "contact": f"{name}_contact"},
        type_column=f"{name}type",
    )


def address1() -> tuple[Column, ...]:
    """Dataverse ``address1_*`` columns with their standard lengths."""
    return (
        text("address1_line1", 250),
        text("address1_city", 80),
        text("address1_stateorprovince", 50),
        text("address1_postalcode", 20),
        text("address1_county", 50),
        text("address1_country", 80),
    )
