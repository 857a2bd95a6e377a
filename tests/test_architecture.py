"""ARCHITECTURE.md's layer rules, checked by import-linter (contracts in pyproject.toml)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency (pip install -e .[test])"
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


MAX_FUNCTION_LINES = 80
MAX_FORMS_LINES = 200


def _functions(root: Path):
    import ast
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(ROOT), node


def test_no_function_is_over_80_lines():
    """A function past 80 lines is split at its natural seams (migrations aside)."""
    long = [f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for package in ("bot", "commands", "reminders", "storage")
            for path, node in _functions(ROOT / package)
            if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, "\n".join(long)


def test_the_shared_form_code_stays_small():
    """Forms live with their features; commands/core/forms.py keeps only what every form shares."""
    lines = (ROOT / "commands" / "core" / "forms.py").read_text(encoding="utf-8").count("\n")
    assert lines < MAX_FORMS_LINES, lines
