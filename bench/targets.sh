#!/usr/bin/env bash
# Targets and waves: relctl promoting one environment of N targets (one wave,
# `parallel: 10`, one full deploy per target) against a zero-latency platform double,
# beside a script that makes the same calls one after the other and records the same
# events as git commits. Prints a markdown table: N, relctl's median, the script's
# median, their ratio, and relctl's time per target.
#
#   RELCTL=target/release/relctl bench/targets.sh [N ...]     (default: 1 5 10 25 50)
#
# Needs git, curl and python3 (the double). BENCH_RUNS sets the runs per figure (5).
set -euo pipefail

RELCTL=${RELCTL:-target/release/relctl}
RELCTL=$(realpath "$RELCTL")
RUNS=${BENCH_RUNS:-5}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 5 10 25 50)
WORK=$(mktemp -d)
export GIT_CONFIG_GLOBAL=$WORK/gitconfig GIT_CONFIG_NOSYSTEM=1
git config --global user.email bench@example.com
git config --global user.name bench
export RELCTL_ACTOR=bench@example.com

# The double: every POST answers at once with the deployment ready.
cat >"$WORK/double.py" <<'EOF'
import json, sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"id": self.path.rsplit("/", 1)[-1], "state": "ready"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"http://127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
EOF
coproc DOUBLE { exec python3 "$WORK/double.py"; }
DOUBLE_PID=$!
trap 'kill "$DOUBLE_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
read -r API <&"${DOUBLE[0]}"

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# The plan: production with N targets in one wave, ten at a time.
plan() {
    local n=$1 i
    cat <<EOF
version: 1
app: bench
artifact: { name: registry.example/bench/app }
vars: { api: "$API" }
providers:
  deploy:
    platform:
      type: http
      request:
        url: "{{ vars.api }}/apps/bench/envs/{{ env.name }}.{{ target.name }}"
        body: { image: "{{ artifact.ref }}", weight: "{{ step.weight }}" }
environments:
  - name: production
    deploy: platform
    targets:
EOF
    for i in $(seq -w 1 "$n"); do echo "      - { name: t$i }"; done
    echo "    waves:"
    printf '      - { targets: [%s], parallel: 10 }\n' "$(seq -w -s ', ' 1 "$n" | sed 's/\([0-9]\+\)/t\1/g')"
}

# The same promotion without relctl: per target a write-ahead commit, the call, a
# commit of its answer and one of its `live`; around them started, entered and live.
script() {
    local records=$1 n=$2 image=$3 i
    cd "$records"
    commit() { printf '%s %s\n' "$EPOCHREALTIME" "$1" >>events.log; git add events.log; git commit -q -m "$1"; }
    commit started
    commit "production entered"
    for i in $(seq -w 1 "$n"); do
        commit "production/t$i intent"
        curl -fsS -X POST -H 'Content-Type: application/json' -H "Idempotency-Key: r/production/1/t$i/0" \
            -d "{\"image\":\"$image\",\"weight\":100}" "$API/apps/bench/envs/production.t$i" >/dev/null
        commit "production/t$i step_done"
        commit "production/t$i live"
    done
    commit "production live"
}

IMAGE=registry.example/bench/app
V1=sha256:$(printf v1 | sha256sum | cut -c1-64)
V2=sha256:$(printf v2 | sha256sum | cut -c1-64)
echo "| targets | relctl | script (sequential) | relctl ÷ script | relctl per target |"
echo "| ---: | ---: | ---: | ---: | ---: |"
for n in "${SIZES[@]}"; do
    P=$WORK/p$n S=$WORK/s$n
    mkdir -p "$P" "$S"
    git -C "$P" init -q -b main
    plan "$n" >"$P/release.yaml"
    git -C "$S" init -q -b main
    git -C "$S" commit -q --allow-empty -m records
    "$RELCTL" --plan "$P/release.yaml" --no-input promote --artifact "$IMAGE@$V1" >/dev/null 2>&1
    seed=$(git -C "$P" rev-parse relctl/records)
    sseed=$(git -C "$S" rev-parse HEAD)
    r=() s=()
    for _ in $(seq "$RUNS"); do
        git -C "$P" update-ref refs/heads/relctl/records "$seed"
        t0=$(now)
        "$RELCTL" --plan "$P/release.yaml" --no-input promote --artifact "$IMAGE@$V2" >/dev/null 2>&1
        r+=("$(echo "$(now) - $t0" | bc)")
        git -C "$S" reset -q --hard "$sseed"
        t0=$(now)
        (script "$S" "$n" "$IMAGE@$V2")
        s+=("$(echo "$(now) - $t0" | bc)")
    done
    rm=$(printf '%s\n' "${r[@]}" | median) sm=$(printf '%s\n' "${s[@]}" | median)
    awk -v n="$n" -v r="$rm" -v s="$sm" 'BEGIN {
        printf "| %d | %.2f s | %.2f s | %.2f | %.0f ms |\n", n, r, s, r / s, r * 1000 / n }'
done
