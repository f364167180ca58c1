#!/usr/bin/env bash
# The benchmark in one command: install what is missing, then run it and write
# docs/PERFORMANCE.md. Extra arguments go to `python -m bench.run` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m bench.run "$@"
