"""How an OData connector pages, batches and parallelises (a leaf module: no connector imports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BulkMessages", "ConnectorSettings"]

#: ``auto``: write with a service's bulk messages (Dataverse ``UpsertMultiple``) where the
#: service offers them for the table; ``never``: always ``$batch``
BulkMessages = Literal["auto", "never"]


@dataclass(frozen=True)
class ConnectorSettings:
    """How a connector pages, batches and parallelises."""

    page_size: int = 5000
    batch_size: int = 1000
    parallel_batches: int = 4
    #: keys per existence-read ``GET`` (its ``$filter`` grows with each key)
    keys_per_read: int = 250
    #: read stored rows first, to skip unchanged records and send only changed fields
    skip_unchanged: bool = True
    #: after a read found none stored, send the next calls' records as create-only writes
    #: without reading first (an initial load costs one request per ``batch_size`` records)
    assume_new_after_empty_read: bool = True
    #: whether to use bulk messages where the service offers them (see :data:`BulkMessages`)
    bulk_messages: BulkMessages = "auto"

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000 (the $batch limit)")
        if self.page_size < 1 or self.parallel_batches < 1 or self.keys_per_read < 1:
            raise ValueError("page_size, parallel_batches and keys_per_read must be positive")
        if self.bulk_messages not in ("auto", "never"):
            raise ValueError("bulk_messages must be 'auto' or 'never'")
