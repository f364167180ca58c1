#!/usr/bin/env bash
# One broker account per enterprise of a registry, through `hazmon gateway add`: the user
# name is the enterprise code, the password random, and the ACL gets the lines that let
# that gateway write only its own topics in its own region.
#
#   sudo bash scripts/gateway-accounts.sh /etc/hazmon/registry.yaml \
#     /etc/mosquitto/hazmon.passwd /etc/mosquitto/hazmon.acl > gateway-passwords.txt
#
# Adds only enterprises that have no account yet (safe to run after every registry
# change); prints "CODE PASSWORD" for each new one on stdout, for handing to that plant's
# gateway installer: keep the list private and delete it once handed over. Passwords are
# stored hashed. Reload the broker afterwards (systemctl reload mosquitto, or SIGHUP).
set -euo pipefail
umask 077

if [ $# -ne 3 ]; then
  echo "usage: $0 REGISTRY PASSWORD_FILE ACL_FILE > new-accounts.txt" >&2
  exit 2
fi
registry=$1
passwd_file=$2
acl_file=$3
here=$(cd "$(dirname "$0")/.." && pwd)
python=${HAZMON_PYTHON:-$here/.venv/bin/python}

# The enterprise codes, read by hazmon's own loader: the file is checked first.
codes=$("$python" - "$registry" <<'EOF'
import sys

from hazmon.domain.registry import RegistryError, load_registry

try:
    registry = load_registry(sys.argv[1])
except RegistryError as exc:
    sys.exit(str(exc))
print("\n".join(sorted(registry.enterprises)))
EOF
)

[ -e "$passwd_file" ] || : > "$passwd_file"
count=0
for code in $codes; do
  if grep -q "^${code}:" "$passwd_file"; then
    continue
  fi
  # the password is printed once, on stdout; the files are rewritten atomically
  password=$("$python" -m hazmon.service.cli gateway add "$code" --registry "$registry" \
    --passwd "$passwd_file" --acl "$acl_file" 2>/dev/null | head -n 1)
  printf '%s %s\n' "$code" "$password"
  count=$((count + 1))
done
echo "gateway-accounts: $count new account(s) in $passwd_file and $acl_file" >&2
