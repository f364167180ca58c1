#!/usr/bin/env bash
# One broker account per enterprise of a registry: the user name is the enterprise code
# (deploy/hazmon.acl lets user X write only enterprise X's topics), the password random.
#
#   sudo bash scripts/gateway-accounts.sh /etc/hazmon/registry.yaml /etc/mosquitto/hazmon.passwd \
#     > gateway-passwords.txt
#
# Adds only enterprises that have no account yet (safe to run after every registry
# change); prints "CODE PASSWORD" for each new one on stdout, for handing to that plant's
# gateway installer: keep the list private and delete it once handed over. Passwords are
# stored hashed by mosquitto_passwd. Reload the broker afterwards (systemctl reload
# mosquitto, or SIGHUP).
set -euo pipefail
umask 077

if [ $# -ne 2 ]; then
  echo "usage: $0 REGISTRY PASSWORD_FILE > new-accounts.txt" >&2
  exit 2
fi
registry=$1
passwd_file=$2
here=$(cd "$(dirname "$0")/.." && pwd)
python=${HAZMON_PYTHON:-$here/.venv/bin/python}
command -v mosquitto_passwd >/dev/null || { echo "mosquitto_passwd not found (Debian: mosquitto)" >&2; exit 2; }

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
new=$(mktemp)
trap 'rm -f "$new"' EXIT
count=0
for code in $codes; do
  if grep -q "^${code}:" "$passwd_file"; then
    continue
  fi
  password=$("$python" -c 'import secrets; print(secrets.token_urlsafe(18))')
  printf '%s:%s\n' "$code" "$password" >> "$new"
  printf '%s %s\n' "$code" "$password"
  count=$((count + 1))
done
if [ "$count" -gt 0 ]; then
  mosquitto_passwd -U "$new"   # plain "user:password" lines → hashed, in place
  cat "$new" >> "$passwd_file"
fi
echo "gateway-accounts: $count new account(s) in $passwd_file" >&2
