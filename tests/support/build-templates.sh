#!/usr/bin/env bash
# Builds the template connectors into <out-dir>/<lang>.wasm (js, python, and rust when
# sdk/templates/rust exists), each laid out as `provisioner connector new` would
# (tests/support/layout.py) and built with the command of its README. Needs componentize-js
# (`componentize-js` on PATH, or npm to install it) and componentize-py on PATH.
# Usage: tests/support/build-templates.sh <out-dir>
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "${1:?usage: build-templates.sh <out-dir>}" && cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for lang in js python rust; do
    [ -d "$repo/sdk/templates/$lang" ] || { echo "no sdk/templates/$lang: skipped" >&2; continue; }
    project="$work/$lang"
    python3 "$repo/tests/support/layout.py" "$repo" acme "$lang" "$project"
    echo "building the $lang template in $project" >&2
    case "$lang" in
        js)
            if command -v componentize-js >/dev/null; then
                (cd "$project" && npm run --silent build)
            else
                (cd "$project" && npm install --no-audit --no-fund --silent && npm run --silent build)
            fi ;;
        python)
            (cd "$project" && componentize-py -d wit -w connector componentize app -p . \
                -p vendor/provisioner-sdk -o acme.wasm) ;;
        rust)
            (cd "$project" && CARGO_TARGET_DIR="$project/target" cargo build --release --target wasm32-wasip2 --quiet)
            cp "$project"/target/wasm32-wasip2/release/*.wasm "$project/acme.wasm" ;;
    esac
    cp "$project/acme.wasm" "$out/$lang.wasm"
    echo "$out/$lang.wasm: $(wc -c <"$out/$lang.wasm") bytes" >&2
done
