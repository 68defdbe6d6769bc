"""The SQL connector: any database SQLAlchemy reaches (SQLite files, PostgreSQL, ...).

>>> connector = SqlConnector.from_url(
...     "sqlite:///finops.db", watermarks={"CustomersV2": "modifiedon"}
... )
"""

from integrator.connectors.sql.config import Relation, SqlConfig
from integrator.connectors.sql.connector import SqlConnector

__all__ = ["Relation", "SqlConfig", "SqlConnector"]
