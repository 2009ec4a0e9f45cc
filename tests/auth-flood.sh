#!/usr/bin/env bash
# A password flood against a `provisioner serve` process, measured from outside: 256 connections
# send Basic requests for a known user, each with a different wrong password (wrk with a Lua
# script, so no two requests share a verification), while one bearer client reads users (wrk,
# its latency percentiles); the server's RSS is sampled from /proc.
#
# Usage: tests/auth-flood.sh <provisioner binary> [bounded|no-backoff|unbounded] [seconds]
#   bounded     the default [auth] bounds
#   no-backoff  the bounds without per-client/per-user back-off (every request is verified)
#   unbounded   as many verifiers as requests, an endless queue, no cache, no back-off (the
#               behaviour before the bounds existed)
# Needs wrk (Debian package `wrk`).
set -euo pipefail
binary="$(realpath "$1")"
mode="${2:-bounded}"
seconds="${3:-10}"
work="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
case "$mode" in
    bounded) auth="" ;;
    no-backoff) auth=$'[auth]\nfree_failures = 1000000000' ;;
    unbounded) auth=$'[auth]\npassword_verifiers = 512\npassword_queue = 1000000\nverified_cache_secs = 0\nfree_failures = 1000000000' ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
cat > "$work/server.toml" <<TOML
[server]
listen = "127.0.0.1:$port"

[database]
url = "sqlite:$work/provisioner.db"

$auth

[[tenants]]
name = "flood"

[[tenants.basic]]
username = "admin"
password = "correct-horse-battery-staple"

[[tenants.bearer]]
label = "reader"
token = "reader-token-0123456789abcdef"
TOML
"$binary" serve --config "$work/server.toml" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port/scim/v2"
for _ in $(seq 1 100); do
    curl -sf -o /dev/null -H "Authorization: Bearer reader-token-0123456789abcdef" "$base/Users?count=1" && break
    sleep 0.2
done
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status"; }
idle="$(rss)"
cat > "$work/wrong-passwords.lua" <<'LUA'
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(text)
  return ((text:gsub(".", function(c)
    local bits, byte = "", c:byte()
    for i = 8, 1, -1 do bits = bits .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
    return bits
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(bits)
    if #bits < 6 then return "" end
    local n = 0
    for i = 1, 6 do n = n + (bits:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return alphabet:sub(n + 1, n + 1)
  end) .. ({ "", "==", "=" })[#text % 3 + 1])
end
local counter = 0
request = function()
  counter = counter + 1
  local credentials = "admin:guess-" .. counter .. "-" .. math.random(1, 1000000000)
  return wrk.format(nil, nil, { ["Authorization"] = "Basic " .. base64(credentials) })
end
LUA
wrk -t1 -c256 -d"${seconds}s" -s "$work/wrong-passwords.lua" "$base/Users?count=1" \
    > "$work/flood.txt" 2>&1 &
flood=$!
wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer reader-token-0123456789abcdef" \
    "$base/Users?count=1" > "$work/bearer.txt" 2>&1 &
reader=$!
peak="$idle"
while kill -0 "$flood" 2>/dev/null; do
    now="$(rss)"; [ "$now" -gt "$peak" ] && peak="$now"
    sleep 0.1
done
wait "$flood" "$reader" || true
sleep 2
after="$(rss)"
echo "mode=$mode seconds=$seconds rss_idle_mib=$idle rss_peak_mib=$peak rss_after_mib=$after"
echo "flood (256 connections, wrong Basic password):"
grep -E "Requests/sec|requests in|Non-2xx|Socket errors" "$work/flood.txt" | sed 's/^/  /'
echo "bearer reader (1 connection):"
grep -E "^\s+(50|90|99)%|Requests/sec" "$work/bearer.txt" | sed 's/^/  /'
