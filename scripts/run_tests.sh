#!/usr/bin/env bash
# `make test`: the whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/python -m pytest"

echo "== Lint (ruff) =="
.venv/bin/ruff check webapp worker tests bench migrations/env.py

echo "== Test suite on SQLite =="
env -u TEST_DATABASE_URL $PYTEST "$@"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== Test suite on PostgreSQL ($TEST_DATABASE_URL) =="
  # The browser tests check pages, not the database; they ran above.
  $PYTEST -m "not browser" "$@"
else
  echo "TEST_DATABASE_URL is not set: PostgreSQL run skipped."
fi
