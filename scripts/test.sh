#!/usr/bin/env bash
# The test command: install what is missing, then lint, type-check and run every test
# (integration tests start their own Mosquitto, InfluxDB and PostgreSQL on free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
