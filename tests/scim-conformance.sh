#!/usr/bin/env bash
# SCIM 2.0 conformance run with an independent checker: builds the `provisioner` binary, starts
# `provisioner serve` on a free loopback port with a fresh SQLite database and one tenant that
# authenticates with a bearer token (as Entra ID and Okta do), and runs `scim2-tester` (PyPI,
# pinned below) against /scim/v2: discovery documents, then create, read, query, replace, PATCH
# (add, replace, remove) and delete of Users and Groups as the server describes them.
#
#   bash tests/scim-conformance.sh
#
# The checker is installed in a virtual environment under a temporary directory (needs python3
# with venv and access to PyPI), removed on exit with the server and its database. It prints one
# line per check and a closing `N passed, N failed` line; it exits non-zero if any check failed.
#
# SCIM_CONFORMANCE_ACCEPT: optional, `|`-separated titles of checks whose failure is accepted
# (a documented, deliberate deviation); empty by default, so every check must pass.
# SCIM_CONFORMANCE_BIN: optional, a `provisioner` binary to run instead of building one.
# SCIM_CONFORMANCE_SERVER=memory: check the `scim` crate alone over its in-memory backend
# (`cargo run -p scim --example memory_server`), which keeps every resource whole, instead of
# `provisioner serve`; the difference between the two runs is what storage drops.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib-server.sh
source tests/lib-server.sh

SCIM2_TESTER_VERSION="0.5.2"
SCIM2_CLIENT_VERSION="0.13.2"

command -v python3 >/dev/null || {
    echo "python3 not found: the checker is a Python package" >&2
    exit 2
}

server="${SCIM_CONFORMANCE_SERVER:-provisioner}"
bin="${SCIM_CONFORMANCE_BIN:-}"
if [[ "$server" == memory ]]; then
    cargo build --quiet -p scim --example memory_server
    bin="${CARGO_TARGET_DIR:-target}/debug/examples/memory_server"
elif [[ -z "$bin" ]]; then
    cargo build --quiet -p provisioner --bin provisioner
    bin="${CARGO_TARGET_DIR:-target}/debug/provisioner"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "installing scim2-tester $SCIM2_TESTER_VERSION in $work/venv"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "scim2-tester==$SCIM2_TESTER_VERSION" "scim2-client[httpx2]==$SCIM2_CLIENT_VERSION"

token="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
cat >"$work/server.toml" <<EOF
[server]
listen = "127.0.0.1:0"

[database]
url = "sqlite:$work/provisioner.db"

[[tenants]]
name = "conformance"

[[tenants.bearer]]
label = "scim2-tester"
token = "env:SCIM_CONFORMANCE_TOKEN"
EOF

if [[ "$server" == memory ]]; then
    SCIM_TOKEN="$token" "$bin" >"$work/server.out" 2>"$work/server.err" &
else
    SCIM_CONFORMANCE_TOKEN="$token" PROVISIONER_CACHE_DIR="$work/cache" \
        "$bin" serve --config "$work/server.toml" >"$work/server.out" 2>"$work/server.err" &
fi
server_pid=$!

base="$(wait_for_scim_base "$server_pid" "$work/server.out" "$work/server.err" \
    's#^SCIM API listening on \(http://[^ ]*\)$#\1/scim/v2#p')"
echo "checking $base ($server server, pid $server_pid)"

SCIM_BASE="$base" SCIM_TOKEN="$token" SCIM_CONFORMANCE_ACCEPT="${SCIM_CONFORMANCE_ACCEPT:-}" \
    "$work/venv/bin/python" - <<'PY'
import os
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAILED = {Status.DEVIATION, Status.ERROR, Status.CRITICAL}

base = os.environ["SCIM_BASE"]
accepted = {t for t in os.environ.get("SCIM_CONFORMANCE_ACCEPT", "").split("|") if t}
http = httpx2.Client(
    base_url=base,
    headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"},
    timeout=30,
)
results = check_server(SyncSCIMClient(http))

passed = failed = skipped = 0
for r in results:
    label = r.title or "?"
    if r.resource_type:
        label = f"{r.resource_type}: {label}"
    status = r.status.name
    if r.status in FAILED and (r.title in accepted or label in accepted):
        status = f"ACCEPTED {status}"
        passed += 1
    elif r.status in PASSED:
        passed += 1
    elif r.status in FAILED:
        failed += 1
    else:
        skipped += 1
    reason = f" -- {r.reason}" if r.reason and r.status not in PASSED else ""
    print(f"  [{status}] {label}{reason}")

print(f"scim2-tester: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
