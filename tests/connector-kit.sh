#!/usr/bin/env bash
# The connector kit end to end, as a third-party author walks it, for each language (default:
# rust js python). From an empty directory:
#   1. `provisioner connector new acme --lang <lang> --dir <dir>`;
#   2. build with the commands of the project's README (its first code block under `## Build`,
#      or its first code block);
#   3. `provisioner connector check acme.wasm`;
#   4. `provisioner serve` with a config (SQLite in a temp dir, one tenant, Basic auth);
#   5. a local HTTP sink on loopback that records requests (tests/support/sink.py);
#   6. `provisioner target put` of a target using the built component, `endpoint` = the sink,
#      loopback egress allowed, its `api-token` secret from the server's environment;
#   7. a SCIM user created with curl;
#   8. wait until the sink has seen `POST /users` with that userName and the bearer token;
# then stop everything. Fails loudly with the step and what was missing.
#
#   bash tests/connector-kit.sh [rust|js|python ...]
#
# Uses target/debug/provisioner ($PROVISIONER_BIN overrides it); needs node/npm (js),
# componentize-py and pip on PATH (python), rustup's wasm32-wasip2 (rust).
# KIT_LAYOUT=by-hand lays the project out with tests/support/layout.py (the same rules as
# `connector new`) instead of calling `connector new`.
# KIT_WAIT_SECONDS bounds the wait for the sink (default 900: the first job of a JS or Python
# target compiles its component, which takes tens of seconds on a small machine).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${PROVISIONER_BIN:-$repo/target/debug/provisioner}"
wait_seconds="${KIT_WAIT_SECONDS:-900}"
langs=("$@")
[[ ${#langs[@]} -gt 0 ]] || langs=(rust js python)
# shellcheck source=tests/lib-server.sh
source "$repo/tests/lib-server.sh"

[[ -x "$bin" ]] || { echo "no provisioner binary at $bin: cargo build -p provisioner" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

work="$(mktemp -d)"
# `connector check` and `serve` share one compiled-component cache, so a component is compiled
# once per run.
export XDG_CACHE_HOME="$work/cache"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

# fail STEP MESSAGE [FILE...]: prints what went wrong and the files that tell more, then exits.
fail() {
    local step="$1" message="$2"
    shift 2
    echo "connector-kit: $lang: $step FAILED: $message" >&2
    for file in "$@"; do
        [[ -s "$file" ]] && { echo "--- $file" >&2; tail -n 60 "$file" >&2; }
    done
    exit 1
}

# build_commands README: the commands of the README's build block: the first code block (fenced,
# or indented by four spaces) under a `## Build` heading, or of the whole README without one.
build_commands() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = re.search(r"^## Build\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
scope = section.group(1) if section else text
fenced = re.search(r"^```[a-z]*\s*$(.*?)^```", scope, re.M | re.S)
indented = re.search(r"(?:^\n)((?:^(?: {4}|\t).*\n?)+)", scope, re.M)
blocks = [m for m in (fenced, indented) if m]
if not blocks:
    sys.exit(f"{sys.argv[1]} has no build commands (a code block under `## Build`)")
block = min(blocks, key=lambda m: m.start())
for line in block.group(1).splitlines():
    command = re.sub(r"(^|\s)#.*$", "", line).strip()
    if command:
        print(command)
PY
}

run_language() {
    local dir="$work/$lang"
    mkdir -p "$dir"
    local project="$dir/acme"
    echo "== $lang: connector new" >&2
    if [[ "${KIT_LAYOUT:-}" == "by-hand" ]]; then
        python3 "$repo/tests/support/layout.py" "$repo" acme "$lang" "$project"
    else
        (cd "$dir" && "$bin" connector new acme --lang "$lang" --dir "$project") \
            >"$dir/new.log" 2>&1 || fail "connector new" "exit $?" "$dir/new.log"
    fi
    [[ -f "$project/README.md" ]] || fail "connector new" "no README.md in the new project"

    echo "== $lang: build (README)" >&2
    local commands
    commands="$(build_commands "$project/README.md")" || fail "build" "README has no build commands"
    echo "$commands" | sed 's/^/   $ /' >&2
    (cd "$project" && bash -euo pipefail -c "$commands") >"$dir/build.log" 2>&1 \
        || fail "build" "the README's build commands failed" "$dir/build.log"
    local wasm="$project/acme.wasm"
    if [[ ! -f "$wasm" ]]; then
        wasm="$(find "$project" -name '*.wasm' -path '*release*' -not -path '*/deps/*' | head -n 1)"
    fi
    [[ -n "$wasm" && -f "$wasm" ]] || fail "build" "no acme.wasm (nor a release .wasm) after the build" "$dir/build.log"
    echo "   built $wasm ($(wc -c <"$wasm") bytes)" >&2

    echo "== $lang: connector check" >&2
    "$bin" connector check "$wasm" >"$dir/check.log" 2>&1 \
        || fail "connector check" "the component does not pass the conformance kit" "$dir/check.log"

    echo "== $lang: serve, sink, target put" >&2
    python3 "$repo/tests/support/sink.py" "$dir/sink.log" "$dir/sink.port" &
    pids+=($!)
    for _ in $(seq 1 100); do [[ -s "$dir/sink.port" ]] && break; sleep 0.1; done
    [[ -s "$dir/sink.port" ]] || fail "sink" "the sink did not start"
    local sink="http://127.0.0.1:$(cat "$dir/sink.port")"

    local password="kit-admin-password"
    local db="sqlite:$dir/provisioner.db"
    cat >"$dir/config.toml" <<TOML
[server]
listen = "127.0.0.1:0"

[database]
url = "$db"

[runtime]
cache_dir = "$XDG_CACHE_HOME/provisioner/components"

[dispatcher]
poll_ms = 100

[[tenants]]
name = "kit"

[[tenants.basic]]
username = "admin"
password = "$password"
TOML
    KIT_API_TOKEN="kit-token-$lang" "$bin" serve --config "$dir/config.toml" \
        >"$dir/server.out" 2>"$dir/server.err" &
    local server_pid=$!
    pids+=("$server_pid")
    local base
    base="$(wait_for_scim_base "$server_pid" "$dir/server.out" "$dir/server.err" \
        's#^SCIM API listening on \(http://[^ ]*\)$#\1#p')"

    cat >"$dir/target.json" <<JSON
{
  "tenant": "kit",
  "name": "acme",
  "connector": "$wasm",
  "properties": { "endpoint": "$sink" },
  "secret_refs": { "api-token": "env:KIT_API_TOKEN" },
  "claim_mappings": [],
  "settings": {},
  "egress": { "allow_loopback": true }
}
JSON
    "$bin" target put --db "$db" "$dir/target.json" >"$dir/put.log" 2>&1 \
        || fail "target put" "the target was refused" "$dir/put.log"

    echo "== $lang: create a SCIM user" >&2
    local user="kit-ada-$lang"
    local status
    status="$(curl -s -o "$dir/create.json" -w '%{http_code}' -u "admin:$password" \
        -H 'content-type: application/scim+json' \
        -d "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"$user\",\"name\":{\"familyName\":\"Lovelace\",\"givenName\":\"Ada\"},\"emails\":[{\"value\":\"ada@example.com\",\"primary\":true}]}" \
        "$base/scim/v2/Users")"
    [[ "$status" == 201 ]] || fail "SCIM create" "expected 201, got $status" "$dir/create.json" "$dir/server.err"

    echo "== $lang: wait for POST /users at the sink (at most ${wait_seconds} s)" >&2
    local seen=""
    for _ in $(seq 1 $((wait_seconds * 2))); do
        if seen="$(python3 - "$dir/sink.log" "$user" "kit-token-$lang" <<'PY'
import json, sys
log, user, token = sys.argv[1:]
for line in open(log, encoding="utf-8"):
    r = json.loads(line)
    if r["method"] == "POST" and r["path"] == "/users" and json.loads(r["body"]).get("userName") == user:
        auth = r["headers"].get("authorization")
        if auth != f"Bearer {token}":
            sys.exit(f"POST /users arrived with authorization {auth!r}, expected the bearer token")
        print(r["body"])
        sys.exit(0)
sys.exit(1)
PY
        )"; then
            break
        elif [[ $? -ne 1 ]]; then
            fail "sink" "$seen" "$dir/sink.log"
        fi
        kill -0 "$server_pid" 2>/dev/null || fail "serve" "the server exited" "$dir/server.out" "$dir/server.err"
        sleep 0.5
    done
    if [[ -z "$seen" ]]; then
        "$bin" jobs --db "$db" >"$dir/jobs.log" 2>&1 || true
        fail "provisioning" "the sink saw no POST /users for $user within ${wait_seconds} s" \
            "$dir/jobs.log" "$dir/sink.log" "$dir/server.err"
    fi
    echo "   the sink got POST /users $seen" >&2

    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    echo "connector-kit: $lang: passed" >&2
}

passed=0
for lang in "${langs[@]}"; do
    run_language
    passed=$((passed + 1))
done
echo "connector-kit: ${passed} passed, 0 failed"
