#!/usr/bin/env bash
# Browser test of the web console: starts the quickstart server (`provisioner serve` with no
# configuration: embedded emulated Salesforce org, fresh database, random admin password) from
# an already built `target/debug/provisioner`, then drives the console in headless Chromium
# (Debian's `chromium` and `chromium-driver`) with Selenium (`tests/console/test_console.py`).
# It writes the screenshots in docs/screenshots/. Builds nothing itself.
#
#   cargo build -p provisioner && python3 -m venv .tools/venv \
#     && .tools/venv/bin/pip install selenium==4.51.0 && bash tests/console.sh
#
# PYTHON: the interpreter with Selenium (default .tools/venv/bin/python). CHROMIUM and
# CHROMEDRIVER: the browser and its driver (default /usr/bin/chromium, /usr/bin/chromedriver).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib-server.sh
source tests/lib-server.sh

bin="${CARGO_TARGET_DIR:-target}/debug/provisioner"
python="${PYTHON:-.tools/venv/bin/python}"
[[ -x "$bin" ]] || { echo "$bin not found: run \`cargo build -p provisioner\` first" >&2; exit 2; }
[[ -x "$python" ]] || {
    echo "$python not found: python3 -m venv .tools/venv && .tools/venv/bin/pip install selenium==4.51.0" >&2
    exit 2
}

work="$(mktemp -d)"
server_pid=""
cleanup() {
    stop_server "$server_pid"
    local data_dir
    data_dir="$(sed -n 's#^ *database: *\(.*\)/provisioner\.db$#\1#p' "$work/server.out" 2>/dev/null || true)"
    [[ -n "$data_dir" ]] && rm -rf "$data_dir"
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
# The last line the quickstart prints once everything is up.
wait_for_scim_base "$server_pid" "$work/server.out" "$work/server.err" 's#^\(Ctrl-C\) stops the server\.$#\1#p' >/dev/null
echo "quickstart server up (pid $server_pid)"

set +e
"$python" tests/console/test_console.py --server-output "$work/server.out" --screenshots docs/screenshots
rc=$?
set -e
if [[ $rc != 0 ]]; then
    echo "--- server stderr (last 40 lines) ---" >&2
    tail -n 40 "$work/server.err" >&2
fi
exit $rc
