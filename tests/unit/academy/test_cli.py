"""`python -m academy`: the check the app's `flask academy check` mirrors."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from academy import DEFAULT_ROOT
from academy.__main__ import main

from .helpers import edit_yaml

ALLOWED_IMPORTS = {"academy", "yaml", "markdown", "nh3", "__future__"}


def test_check_command_succeeds_on_a_valid_catalogue(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(root)]) == 0
    assert "catalogue ok: 4 courses, 2 assessments" in capsys.readouterr().out


def test_check_command_prints_problems_and_fails(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_yaml(root / "courses" / "shop" / "course.yaml", lambda d: d.__setitem__("pass_mark", 0))
    assert main(["check", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"{root / 'courses' / 'shop' / 'course.yaml'}: pass_mark: must be an integer 1..100" in err
    assert "1 problem(s) found" in err


def test_hashes_command_prints_one_line_per_course(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hashes", str(root)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["basics", "safety", "shop", "calls"]
    assert all(len(line.split("\t")[2]) == 64 for line in lines)


def test_engine_imports_only_stdlib_yaml_markdown_and_nh3() -> None:
    package = Path(__file__).resolve().parents[3] / "academy"
    assert package == DEFAULT_ROOT.parent
    stdlib = sys.stdlib_module_names
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in ALLOWED_IMPORTS, f"{path.name} imports {name}"


def test_module_runs_as_a_script(root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "academy", "check", str(root)],
        capture_output=True,
        text=True,
        cwd=DEFAULT_ROOT.parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
