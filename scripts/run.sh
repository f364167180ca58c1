#!/usr/bin/env bash
# The main job: install what is missing, then run Mosquitto, InfluxDB, hazmon and a
# simulated province of plants on this machine (var/demo/). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/hazmon demo "$@"
