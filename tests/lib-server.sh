# Shell helpers shared by the scripts that start `provisioner serve` and probe it (sourced).

# wait_for_scim_base PID OUT ERR SED_EXPR: waits up to 30 s for the server PID to print its
# SCIM base URL to OUT, extracted by the sed expression SED_EXPR (used with `sed -n`), and
# prints it. Exits the calling script, showing OUT and ERR, if the server stops first or
# prints no address in time.
wait_for_scim_base() {
    local pid="$1" out="$2" err="$3" expr="$4" base=""
    for _ in $(seq 1 300); do
        base="$(sed -n "$expr" "$out")"
        if [[ -n "$base" ]]; then
            echo "$base"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the server exited before listening:" >&2
            cat "$out" "$err" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "the server did not print its address in 30 s:" >&2
    cat "$out" "$err" >&2
    exit 1
}

# stop_server PID: stops the server PID gracefully (SIGTERM, then waits for it), if it runs.
stop_server() {
    local pid="$1"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
