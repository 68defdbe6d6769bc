"""Workspace configuration: settings, connection sets and projects as commented YAML, loaded
with file and line in every problem, and validated against the systems' metadata."""

from integrator.config.models import (
    Connection,
    ConnectionSet,
    ConnectionsFile,
    HistorySettings,
    OrganizationMapping,
    Project,
    Schedule,
    WorkspaceSettings,
)
from integrator.config.validate import Describe, check_workspace, validate_workspace
from integrator.config.workspace import (
    HISTORY_FILE,
    Workspace,
    find_workspace_root,
    init_workspace,
    load_workspace,
    save_project_as_template,
)
from integrator.secrets import SecretRef

__all__ = [
    "HISTORY_FILE",
    "Connection",
    "ConnectionSet",
    "ConnectionsFile",
    "Describe",
    "HistorySettings",
    "OrganizationMapping",
    "Project",
    "Schedule",
    "SecretRef",
    "Workspace",
    "WorkspaceSettings",
    "check_workspace",
    "find_workspace_root",
    "init_workspace",
    "load_workspace",
    "save_project_as_template",
    "validate_workspace",
]
