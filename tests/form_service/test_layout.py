"""Imports flow one way: core <- intake, core <- review, cli -> both, and never in a cycle.

Read from the source with `ast` (every import, including those inside functions), so the
rules hold for code paths no test happens to run. It tests the package as a whole, not one
module, so it keeps a behaviour name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from form_service.settings import PROJECT_DIR

PACKAGE = PROJECT_DIR / "form_service"
APPS = ("form_service.intake", "form_service.review", "form_service.cli")
# The desk's web layer: Flask views and request plumbing. Its domain modules (accounts,
# sessions, inbox, workflow, audit, ...) work on a database session and never on a request.
DESK_WEB = tuple(
    f"form_service.review.{name}"
    for name in (
        "views",
        "forms",
        "account_forms",  # the account pages' WTForms and their translated messages
        "guard",
        "state",
        "context",
        "headers",
        "errors",
    )
)


def module_name(path: Path) -> str:
    """Return the dotted name of a module file under the project root."""
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, modules: set[str]) -> Iterator[str]:
    """Yield every module of form_service one file imports (inside functions too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                # `from form_service.review import audit` imports the submodule `audit`;
                # `from form_service.models import Tip` imports the package that defines Tip.
                submodule = f"{node.module}.{alias.name}"
                target = submodule if submodule in modules else node.module
                if target in modules:
                    yield target


def import_graph() -> dict[str, set[str]]:
    """Map each module of form_service to the modules of form_service it imports."""
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: set(imported(path, set(files))) for name, path in files.items()}


def owner(module: str) -> str:
    """Return which part a module belongs to: an app package, or the core."""
    return next((app for app in APPS if module == app or module.startswith(app + ".")), "core")


def test_the_scan_sees_the_whole_package() -> None:
    graph = import_graph()
    assert {"form_service.settings", "form_service.intake", "form_service.review"} <= set(graph)
    assert graph["form_service.intake"], "the scan found no imports at all"


def test_no_module_of_form_service_imports_itself_back() -> None:
    graph = import_graph()
    cycles = []

    def visit(module: str, path: list[str], on_path: set[str], done: set[str]) -> None:
        """Walk the graph depth first, noting each way back onto the current path."""
        on_path.add(module)
        path.append(module)
        for target in sorted(graph[module]):
            if target in on_path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, path, on_path, done)
        path.pop()
        on_path.discard(module)
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [], set(), done)
    assert cycles == []


@pytest.mark.parametrize(
    ("part", "forbidden"),
    [
        ("core", APPS),
        ("form_service.intake", ("form_service.review", "form_service.cli")),
        ("form_service.review", ("form_service.intake", "form_service.cli")),
    ],
)
def test_imports_flow_from_the_apps_to_the_core_only(part: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if owner(module) == part
        for target in targets
        if target.startswith(forbidden)
    )
    assert wrong == []


def test_the_intake_never_imports_the_desk_key_code() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if owner(module) == "form_service.intake"
        for target in targets
        if target == "form_service.deskkey"
    )
    assert wrong == []


def test_the_desk_domain_never_imports_its_web_layer() -> None:
    graph = import_graph()
    domain = [
        module
        for module in graph
        if owner(module) == "form_service.review"
        and module != "form_service.review"
        and not module.startswith(DESK_WEB)
    ]
    assert "form_service.review.auth.accounts" in domain
    wrong = sorted(
        f"{module} imports {target}"
        for module in domain
        for target in graph[module]
        if target.startswith(DESK_WEB)
    )
    assert wrong == []
