"""Plan which projects run, in which order: prerequisites ("Sync tasks required prior") first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from integrator.config.workspace import Workspace
from integrator.errors import ConfigError, ConfigProblem

__all__ = ["plan_projects", "prerequisite_projects"]


def prerequisite_projects(workspace: Workspace, project: str) -> list[str]:
    """The workspace projects that ``project``'s ``required_prior`` templates name.

    A prerequisite is a template name; the projects created from it (or named like it) satisfy
    it. Raises :class:`ConfigError` naming a prerequisite no project in the workspace provides.
    """
    required = workspace.project(project).required_prior
    names: list[str] = []
    problems: list[ConfigProblem] = []
    for template in required:
        providers = workspace.projects_from_template(template)
        if not providers:
            problems.append(
                ConfigProblem(
                    file=workspace.project_files.get(project, ""),
                    line=None,
                    path=f'project "{project}", required_prior',
                    message=f'prerequisite "{template}" has no project in this workspace '
                    f'(create one with the template "{template}", or remove the prerequisite)',
                )
            )
        names.extend(p for p in providers if p not in names and p != project)
    if problems:
        raise ConfigError(problems)
    return names


def plan_projects(
    workspace: Workspace,
    requested: Sequence[str],
    completed: Callable[[str], bool],
) -> list[str]:
    """The projects to run, in order: each project's prerequisites before it.

    ``requested`` names projects (empty: every project). A prerequisite that is not requested
    must have ``completed`` before in this workspace, or :class:`ConfigError` names it.
    """
    names = [workspace.project_name(n) for n in requested] or sorted(workspace.project_files)
    chosen = set(names)
    order: list[str] = []
    visiting: set[str] = set()
    problems: list[ConfigProblem] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = " → ".join((*trail, name))
            raise ConfigError(f"projects require each other in a cycle: {cycle}")
        visiting.add(name)
        for prior in prerequisite_projects(workspace, name):
            if prior in chosen:
                visit(prior, (*trail, name))
            elif not completed(prior):
                problems.append(
                    ConfigProblem(
                        file=workspace.project_files.get(name, ""),
                        line=None,
                        path=f'project "{name}"',
                        message=f'requires "{prior}" to have run first, and it has never '
                        f"completed in this workspace: run it first, or in the same "
                        f'command (integrator run "{prior}" "{name}")',
                    )
                )
        visiting.discard(name)
        order.append(name)

    for name in names:
        visit(name, ())
    if problems:
        raise ConfigError(problems)
    return order
