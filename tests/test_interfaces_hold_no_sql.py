"""The interfaces translate, the domain decides (docs/architecture.md): no module of the API,
the console, the CLI, the shared HTTP layer or the server builds a query. Every SELECT,
INSERT, UPDATE or DELETE is a named function of the package that owns the data, so what a
page shows and what a job or a command reads cannot drift apart.

Read from the source with ast, so a new module is checked at once. What an interface may
take from SQLAlchemy:

* ``from sqlalchemy.orm import Session``: the type of the session it opens and hands to the
  domain (type hints only; nothing else from ``sqlalchemy.orm``: ``aliased``, loader
  options and the like build queries);
* anything from ``sqlalchemy.exc``: catching a database error to answer 503 or exit 2.

Everything else is refused: ``import sqlalchemy`` in any form (it reaches every
construct), any name from ``sqlalchemy`` itself or another of its modules (``select``,
``text``, ``func``, ``sqlalchemy.sql``...), and any call of ``select``, ``insert``,
``update`` or ``delete`` reached through SQLAlchemy, by name or by attribute.

An interface opens a session and hands it to the domain; it does not use it itself: no
``session.get``, ``add``, ``add_all``, ``delete``, ``merge``, ``execute``, ``scalar``,
``scalars``, ``query``, ``refresh`` or ``flush`` (the receiver is recognised by its name,
``session``, which is what every interface calls it; the session's owner, the ``with``
block of ``Database.transaction``, still commits or rolls back).

Nor does it write the audit log: a call ``<anything>.append(AuditAction.X, ...)`` is
refused, since what is recorded must be decided where the act is done (reading the log,
``AuditLog(session).recent``, is the audit page's job and allowed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "vigil"
INTERFACES = ("api", "web", "cli", "http", "server")
STATEMENTS = frozenset({"select", "insert", "update", "delete"})
SESSION_WORK = frozenset(
    {"get", "add", "add_all", "delete", "merge", "execute", "scalar", "scalars", "query"}
    | {"refresh", "flush"}
)
ALLOWED = {
    "sqlalchemy.orm": frozenset({"Session"}),
    "sqlalchemy.exc": None,  # every name: database errors, caught at the edge
}


def _is_sqlalchemy(module: str) -> bool:
    return module.split(".")[0] == "sqlalchemy"


def _refused_import(node: ast.ImportFrom) -> list[str]:
    module = node.module or ""
    if node.level or not _is_sqlalchemy(module):
        return []
    allowed = ALLOWED.get(module, frozenset())
    return [
        f"from {module} import {alias.name}"
        for alias in node.names
        if allowed is not None and alias.name not in allowed
    ]


def _bound_statements(tree: ast.AST) -> dict[str, str]:
    """Local names of SQLAlchemy's statement builders: ``select`` (or its alias) imported
    from any SQLAlchemy module, and every name SQLAlchemy's modules are imported as."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sqlalchemy(alias.name):
                    local = alias.asname or alias.name.split(".")[0]
                    bound[local] = "module"
        elif isinstance(node, ast.ImportFrom) and _is_sqlalchemy(node.module or ""):
            for alias in node.names:
                if alias.name in STATEMENTS and not node.level:
                    bound[alias.asname or alias.name] = alias.name
    return bound


def _statement_call(node: ast.Call, bound: dict[str, str]) -> str | None:
    """``select(...)`` with ``select`` from SQLAlchemy, or ``sa.select(...)``."""
    function = node.func
    if isinstance(function, ast.Name) and bound.get(function.id, "module") != "module":
        return f"{function.id}(...)"
    if isinstance(function, ast.Attribute) and function.attr in STATEMENTS:
        root = function.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and bound.get(root.id) == "module":
            return f"{ast.unparse(function)}(...)"
    return None


def _session_work(node: ast.Call) -> bool:
    function = node.func
    return (
        isinstance(function, ast.Attribute)
        and function.attr in SESSION_WORK
        and isinstance(function.value, ast.Name)
        and function.value.id == "session"
    )


def _audit_write(node: ast.Call) -> bool:
    function, first = node.func, node.args[0] if node.args else None
    return (
        isinstance(function, ast.Attribute)
        and function.attr == "append"
        and isinstance(first, ast.Attribute)
        and isinstance(first.value, ast.Name)
        and first.value.id == "AuditAction"
    )


def violations(source: str) -> list[str]:
    """What in ``source`` builds a query or imports what builds one."""
    tree = ast.parse(source)
    bound = _bound_statements(tree)
    wrong = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wrong += [f"import {a.name}" for a in node.names if _is_sqlalchemy(a.name)]
        elif isinstance(node, ast.ImportFrom):
            wrong += _refused_import(node)
        elif isinstance(node, ast.Call) and (call := _statement_call(node, bound)):
            wrong.append(call)
        elif isinstance(node, ast.Call) and _session_work(node):
            wrong.append(f"{ast.unparse(node.func)}(...)")
        elif isinstance(node, ast.Call) and _audit_write(node):
            wrong.append(f"{ast.unparse(node.func)}(AuditAction...)")
    return wrong


MODULES = sorted(path for package in INTERFACES for path in (SOURCE / package).rglob("*.py"))


def test_every_interface_package_is_read() -> None:
    assert {path.relative_to(SOURCE).parts[0] for path in MODULES} == set(INTERFACES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_interfaces_build_no_query(path: Path) -> None:
    wrong = violations(path.read_text(encoding="utf-8"))
    assert not wrong, (
        f"{path.relative_to(SOURCE)} does domain work: {wrong}; move it into a named "
        "function of the domain package (or vigil.store) that owns the data"
    )


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select",
        "from sqlalchemy import insert",
        "from sqlalchemy import update",
        "from sqlalchemy import delete",
        "from sqlalchemy import select as pick",
        "from sqlalchemy import text",
        "from sqlalchemy import func",
        "from sqlalchemy.sql import select",
        "from sqlalchemy.sql.expression import update",
        "from sqlalchemy.orm import aliased",
        "from sqlalchemy.orm import Session, selectinload",
        "import sqlalchemy",
        "import sqlalchemy as sa",
        "import sqlalchemy.orm",
        "def later():\n    from sqlalchemy import delete",
    ],
)
def test_the_rule_refuses_every_query_construct(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlalchemy as sa\nsa.select(1)", "sa.select(...)"),
        ("import sqlalchemy\nsqlalchemy.sql.insert(t)", "sqlalchemy.sql.insert(...)"),
        ("from sqlalchemy import update\nupdate(t)", "update(...)"),
        ("from sqlalchemy import delete as remove\nremove(t)", "remove(...)"),
        ("session.get(User, 1)", "session.get(...)"),
        ("session.add(ExposureEvent(user_id=1))", "session.add(...)"),
        ("session.execute(statement)", "session.execute(...)"),
        ("session.scalars(query).all()", "session.scalars(...)"),
        ("session.merge(company, load=False)", "session.merge(...)"),
        ("session.query(HashList).first()", "session.query(...)"),
    ],
)
def test_the_rule_names_each_statement_built(source: str, expected: str) -> None:
    assert expected in violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy.orm import Session",
        "from sqlalchemy.exc import SQLAlchemyError, OperationalError",
        # names that only look like statements: a dict's update, a set's delete, our own
        "settings.update(values)\nprogress.update(task, completed=1)\ncache.delete(key)",
        "from vigil.triage.service import select_weights\nselect_weights(session)",
        "def select(item):\n    return item\nselect(1)",
        # handing the session on, and opening one, is what an interface does with it
        "with database.transaction() as session:\n    list_users(session)",
        "state.vault.get(session, item_id)\nrequest.session.get('next')",
        "from .queries import update\nupdate(session)",
    ],
)
def test_the_rule_allows_sessions_errors_and_other_names(source: str) -> None:
    assert not violations(source)


def test_the_rule_refuses_an_audit_write_and_allows_reading_the_log() -> None:
    assert violations("AuditLog(session).append(AuditAction.EXPORT, actor='a')")
    assert violations("log.append(AuditAction.MEDIA_VIEWED)")
    assert not violations("records = AuditLog(session).recent(10)")
    assert not violations("items.append(value)")
