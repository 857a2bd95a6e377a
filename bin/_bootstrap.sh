# Sourced by bin/teambot and bin/test: make ./.venv with the project installed, once and after
# pyproject.toml changes, using the first Python 3.11+ found.
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TEAMBOT_VENV:-$ROOT/.venv}"
STAMP="$VENV/.teambot-installed"

pick_python() {
  for py in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "teambot needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)"
  echo "creating $VENV with $("$PY" --version)" >&2
  "$PY" -m venv "$VENV"
fi
want="$(cat "$ROOT/pyproject.toml" | cksum)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "installing teambot and its dependencies into $VENV ..." >&2
  # -qq: pip's errors only. Its warnings are about the machine's pip set-up and setuptools' note
  # that every editable install gets, nothing a user of teambot can act on.
  "$VENV/bin/python" -m pip install -qq --upgrade pip >&2
  "$VENV/bin/python" -m pip install -qq -e "$ROOT[test]" >&2
  echo "$want" > "$STAMP"
fi
