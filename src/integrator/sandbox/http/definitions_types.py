"""The property names of the metadata entity types the sandbox serves, for ``$select`` checks:
what each ``AttributeMetadata`` derived type adds (its reference page under
``https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/``), and the
properties of ``EntityKeyMetadata`` and ``OptionSetMetadata``.
"""

from __future__ import annotations

__all__ = ["DERIVED", "ENUM_TYPES", "KEY_PROPERTIES", "OPTION_SET_PROPERTIES"]

#: properties each attribute type adds to ``AttributeMetadata`` (its reference page)
DERIVED: dict[str, set[str]] = {
    "StringAttributeMetadata": {
        "MaxLength",
        "DatabaseLength",
        "Format",
        "FormatName",
        "ImeMode",
        "IsLocalizable",
        "YomiOf",
        "FormulaDefinition",
        "SourceTypeMask",
    },
    "MemoAttributeMetadata": {"MaxLength", "DatabaseLength", "Format", "ImeMode"},
    "PicklistAttributeMetadata": {"DefaultFormValue", "SourceTypeMask", "FormulaDefinition"},
    "MultiSelectPicklistAttributeMetadata": {"DefaultFormValue", "SourceTypeMask"},
    "StateAttributeMetadata": {"DefaultFormValue"},
    "StatusAttributeMetadata": {"DefaultFormValue"},
    "EntityNameAttributeMetadata": {"DefaultFormValue"},
    "BooleanAttributeMetadata": {"DefaultValue", "FormulaDefinition", "SourceTypeMask"},
    "LookupAttributeMetadata": {"Targets", "Format"},
    "DateTimeAttributeMetadata": {"Format", "DateTimeBehavior", "ImeMode"},
    "DecimalAttributeMetadata": {"Precision", "MinValue", "MaxValue", "ImeMode"},
    "MoneyAttributeMetadata": {"Precision", "PrecisionSource", "MinValue", "MaxValue"},
    "DoubleAttributeMetadata": {"Precision", "MinValue", "MaxValue"},
    "IntegerAttributeMetadata": {"Format", "MinValue", "MaxValue"},
    "BigIntAttributeMetadata": {"MinValue", "MaxValue"},
    "UniqueIdentifierAttributeMetadata": set(),
}
#: the attribute types that carry an option set (``EnumAttributeMetadata``'s derived types)
ENUM_TYPES = {
    "PicklistAttributeMetadata",
    "MultiSelectPicklistAttributeMetadata",
    "StateAttributeMetadata",
    "StatusAttributeMetadata",
    "EntityNameAttributeMetadata",
    "BooleanAttributeMetadata",
}
KEY_PROPERTIES = [
    "MetadataId",
    "LogicalName",
    "SchemaName",
    "EntityLogicalName",
    "KeyAttributes",
    "EntityKeyIndexStatus",
    "DisplayName",
    "IsManaged",
    "IsCustomizable",
    "IsSecondaryKey",
    "IsExportKey",
    "IsSynchronous",
    "AsyncJob",
    "IntroducedVersion",
    "HasChanged",
]
OPTION_SET_PROPERTIES = {
    name: None
    for name in [
        "MetadataId",
        "Name",
        "OptionSetType",
        "IsGlobal",
        "IsCustomOptionSet",
        "IsManaged",
        "DisplayName",
        "Description",
        "IsCustomizable",
        "IntroducedVersion",
        "HasChanged",
        "Options",
        "TrueOption",
        "FalseOption",
        "ExternalTypeName",
        "ParentOptionSetName",
    ]
}
