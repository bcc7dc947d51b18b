"""Rules of the codebase that a reviewer would otherwise have to remember."""

import ast
import pathlib

APP = pathlib.Path(__file__).resolve().parents[2] / "app"
ACADEMY = APP.parent / "academy"


def _functions(root: pathlib.Path):
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path, node


def test_no_function_both_assigns_and_calls_the_gettext_underscore():
    """`_, error = run(...)` followed by `_("…")` calls the result, not gettext: a 500 in waiting."""
    offenders = []
    for path, fn in _functions(APP):
        names = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == "_"]
        if any(isinstance(n.ctx, ast.Store) for n in names) and any(
            isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "_" for c in ast.walk(fn)
        ):
            offenders.append(f"{path.relative_to(APP.parent)}:{fn.lineno} {fn.name}")
    assert offenders == []


def test_the_academy_engine_imports_nothing_from_the_app_flask_or_sqlalchemy():
    forbidden = ("app", "flask", "flask_babel", "sqlalchemy", "werkzeug")
    offenders = []
    for path in sorted(ACADEMY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in forbidden]
    assert offenders == []


def test_services_do_not_reach_for_the_request():
    """Domain logic must run from the worker and the CLI too: no request, current_user, flash or g."""
    offenders = []
    for path in sorted(APP.rglob("services.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login"):
                bad = {a.name for a in node.names} & {"request", "current_user", "flash", "g", "session"}
                offenders += [f"{path.relative_to(APP.parent)}: {name}" for name in sorted(bad)]
    assert offenders == []
