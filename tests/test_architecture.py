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


def _repeated_blocks(root: Path, size: int = 6) -> list[str]:
    """Places in different spots that repeat `size` or more code lines word for word (blank lines,
    comments, imports and lines of bare punctuation aside), one entry per pair of places."""
    windows: dict[tuple[str, ...], list[tuple[str, int, int]]] = {}
    for path in sorted(root.rglob("*.py")):
        lines = [(n, line.strip()) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]
        lines = [(n, line) for n, line in lines if any(c.isalnum() for c in line)
                 and not line.startswith(("#", "from ", "import "))]
        for k in range(len(lines) - size + 1):
            key = tuple(line for _, line in lines[k:k + size])
            windows.setdefault(key, []).append((str(path.relative_to(ROOT)), k, lines[k][0]))
    starts: set[tuple[str, str, int, int]] = set()
    shown: dict[tuple[str, str, int, int], str] = {}
    for places in windows.values():
        for i, (fa, ka, la) in enumerate(places):
            for fb, kb, lb in places[i + 1:]:
                if fa == fb and abs(ka - kb) < size:
                    continue
                starts.add((fa, fb, ka, kb))
                shown[(fa, fb, ka, kb)] = f"{fa}:{la} ~ {fb}:{lb}"
    # A longer repeat is many overlapping windows: count the first window of each run.
    return sorted(shown[s] for s in starts if (s[0], s[1], s[2] - 1, s[3] - 1) not in starts)


def test_adapters_repeat_each_other_at_most_twice():
    """What every adapter needs lives in bot/kit; at most 2 pairs of places in bot/ repeat 6+ lines."""
    repeated = _repeated_blocks(ROOT / "bot")
    assert len(repeated) <= 2, "\n".join(repeated)


def test_the_recipient_rule_is_written_once():
    """A person's language, time zone and time away are read through commands.core.people's
    recipient_prefs() (the dispatcher reads the asker's own with the team, settings writes them)."""
    import ast
    allowed = {"commands/core/people.py", "commands/core/dispatch.py", "commands/settings.py"}
    readers = {str(path.relative_to(ROOT)) for package in ("bot", "commands", "reminders")
               for path in (ROOT / package).rglob("*.py")
               if any(isinstance(node, ast.Name) and node.id == "UserPref"
                      for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))}
    assert readers <= allowed, sorted(readers - allowed)
