#!/usr/bin/env bash
# Install everything hazmon needs on a fresh Debian machine. Safe to run twice: it only
# installs what is missing, and reinstalls Python packages only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
have_pg || need+=(postgresql)
# A clustered MQTT broker (JetStream) for the several-instances tests (tests/cluster/).
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
# The web page is tested in a real headless browser; Chinese text needs a CJK font.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
# The hot modules are compiled with mypyc (scripts/build_native.py) when a C compiler and
# Python's headers are there; HAZMON_PURE=1 skips that and hazmon runs as pure Python.
if [ "${HAZMON_PURE:-0}" != 1 ]; then
  command -v gcc >/dev/null 2>&1 || need+=(gcc)
  pyinc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  [ -f "$pyinc/Python.h" ] || need+=(python3-dev)
fi

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: installing Debian packages: ${need[*]}" >&2
  $sudo apt-get update -qq
  # hazmon starts its own servers on free ports; system-wide ones are not needed.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  python3 -m venv .venv
fi
stamp=.venv/.hazmon-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

if [ "${HAZMON_PURE:-0}" = 1 ]; then
  .venv/bin/python scripts/build_native.py --clean
else
  if [ ! -f hazmon/_native.sha256 ] || ! .venv/bin/python scripts/build_native.py --check; then
    echo "bootstrap: compiling the hot modules (mypyc)" >&2
    if ! .venv/bin/python scripts/build_native.py; then
      # Pure Python is a complete fallback: the .py files stay the source.
      .venv/bin/python scripts/build_native.py --clean
      echo "bootstrap: compiling failed; hazmon runs as pure Python" >&2
    fi
  fi
fi
