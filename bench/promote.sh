#!/usr/bin/env bash
# The same promotion done the way teams do it without relctl: curl for the HTTP calls,
# jq to read the answers, one `git commit` per event in a records repository. It makes
# the calls relctl makes for bench/release.yaml.in (deploy, poll until ready, check the
# digest; read the error rate and compare it with the limit) and commits the events
# relctl commits (started; per environment entered, intent and done for each step,
# each measurement, live), so both sides do the same work and only the tool differs.
#
#   bench/promote.sh API RECORDS_REPO IMAGE@sha256:HEX VERSION
set -euo pipefail

api=$1 records=$2 image=$3 version=$4
app=bench
digest=${image##*@}
hex=${digest#sha256:}
id="$app-${hex:0:12}"
actor=${RELCTL_ACTOR:-${USER:-$(id -un)}}
cd "$records"
mkdir -p releases environments

fail() { echo "promote.sh: $*" >&2; exit 1; }

# One event: a line in the release's log (and the environment's state when given),
# then a commit with the same trailers relctl writes.
record() {
    local env=$1 event=$2 summary=$3 state=${4:-}
    printf '%s %s %s %s %s\n' "$EPOCHREALTIME" "$actor" "${env:--}" "$event" "$summary" >>"releases/$id.log"
    [ -n "$state" ] && printf '%s\n' "$state" >"environments/$env"
    git add releases environments
    git commit -q -m "$id${env:+ $env}: $summary" -m "Relctl-Release: $id
${env:+Relctl-Env: $env
}Relctl-Event: $event
Relctl-Actor: $actor"
}

# Deploy at a weight, wait until the platform says ready, check what it runs.
deploy() {
    local env=$1 step=$2 weight=$3 answer dep state running
    answer=$(curl -fsS --retry 3 -X POST \
        -H 'Content-Type: application/json' -H "Idempotency-Key: $id/$env/$step" \
        -d "{\"image\":\"$image\",\"weight\":$weight,\"release\":\"$id\"}" \
        "$api/apps/$app/envs/$env") || fail "deploy to $env failed"
    dep=$(jq -r .id <<<"$answer")
    while :; do
        answer=$(curl -fsS --retry 3 "$api/deployments/$dep") || fail "polling $env failed"
        read -r state running < <(jq -r '"\(.state) \(.digest)"' <<<"$answer")
        [ "$state" = ready ] && break
        [ "$state" = failed ] && fail "deploy to $env failed"
        sleep 0
    done
    [ "$running" = "$digest" ] || fail "$env runs $running, not $digest"
}

# One measurement of the error rate; above 0.01 fails the canary.
analyse() {
    local env=$1 rate
    rate=$(curl -fsS --retry 3 "$api/stats/$version" | jq -r .error_rate) || fail "no stats"
    record "$env" measured "error-rate $rate"
    awk -v v="$rate" 'BEGIN { exit !(v <= 0.01) }' || fail "error rate $rate is above 0.01"
}

# steps: "deploy WEIGHT" or "analysis"
environment() {
    local env=$1; shift
    record "$env" entered "entered" "lock: $id"
    local step=0
    for s in "$@"; do
        case $s in
            deploy*)
                local weight=${s#deploy }
                record "$env" intent "deploy $weight% (step $((step + 1)))"
                deploy "$env" "$step" "$weight"
                record "$env" step_done "deployed $weight%"
                ;;
            analysis)
                record "$env" intent "analysis health (step $((step + 1)))"
                analyse "$env"
                record "$env" step_done "analysis health passed"
                ;;
        esac
        step=$((step + 1))
    done
    record "$env" live "live" "live: $id $image $version"
}

record "" started "started $version"
environment dev "deploy 100"
environment staging "deploy 100"
environment production "deploy 10" analysis "deploy 50" analysis "deploy 100"
