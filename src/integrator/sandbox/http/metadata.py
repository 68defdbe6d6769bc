"""``$metadata``: the CSDL XML document of a service, as its real counterpart shapes it.

Dataverse (Sales, CDS): :mod:`.dataverse_metadata`; F&O: :mod:`.metadata_finops`.
"""

from __future__ import annotations

from integrator.sandbox.http.dataverse_metadata import dataverse_metadata_xml
from integrator.sandbox.http.metadata_finops import finops_metadata_xml
from integrator.sandbox.http.model import ServedService

__all__ = ["metadata_xml"]


def metadata_xml(service: ServedService) -> bytes:
    """The CSDL (OData v4 EDMX) document for ``service``, in its flavor's shape."""
    if service.service.flavor == "dataverse":
        return dataverse_metadata_xml(service)
    return finops_metadata_xml(service)
