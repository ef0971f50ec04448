#!/bin/sh
# One-shot set-up of the coldflow Temporal namespace, run by the `temporal-setup` service
# (temporalio/admin-tools image) once the Temporal server is up. Safe to run again.
#
#   temporal-setup.sh Name=Type [Name=Type ...]
#
# 1. waits until the frontend answers `temporal operator cluster health`;
# 2. creates the namespace $TEMPORAL_NAMESPACE unless it exists;
# 3. registers every listed custom search attribute that is missing. An attribute that exists
#    with another type is an error: Temporal cannot change a type, and coldflow's workflows would
#    fail to upsert it (their workflow tasks retry forever).
#
# Environment: TEMPORAL_ADDRESS (host:port, required), TEMPORAL_NAMESPACE (default "default"),
# TEMPORAL_NAMESPACE_RETENTION (closed workflows are kept this long; default 30d),
# SETUP_ATTEMPTS and SETUP_RETRY_SECONDS (retry 60 times, 2 s apart),
# SEARCH_ATTRIBUTE_SETTLE_SECONDS (default 60).
set -eu

log() { echo "temporal-setup: $*"; }
fail() { echo "temporal-setup: ERROR: $*" >&2; exit 1; }

ADDRESS="${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS (host:port) is required}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-30d}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
RETRY="${SETUP_RETRY_SECONDS:-2}"
SETTLE="${SEARCH_ATTRIBUTE_SETTLE_SECONDS:-60}"

[ "$#" -gt 0 ] || fail "no search attributes given (expected Name=Type arguments)"
for spec in "$@"; do
    name="${spec%%=*}"
    type="${spec#*=}"
    case "$name" in '' | [!A-Za-z]* | *[!A-Za-z0-9_]*) fail "bad search attribute name in '$spec'" ;; esac
    case "$type" in
        Text | Keyword | Int | Double | Bool | Datetime | KeywordList) ;;
        *) fail "bad search attribute type in '$spec' (Text, Keyword, Int, Double, Bool, Datetime, KeywordList)" ;;
    esac
done

# Dial the IPv4 address of the server: the Go gRPC resolver in the CLI may otherwise pick an
# address the server does not listen on. Fall back to the name if it does not resolve.
host="${ADDRESS%:*}"
port="${ADDRESS##*:}"
ip="$(getent ahosts "$host" 2>/dev/null | awk '$1 ~ /^[0-9.]+$/ { print $1; exit }')" || ip=""
if [ -n "$ip" ]; then ADDRESS="$ip:$port"; fi

tctl() { temporal "$@" --address "$ADDRESS"; }

log "waiting for the Temporal frontend at $ADDRESS"
n=0
until tctl operator cluster health >/dev/null 2>&1; do
    n=$((n + 1))
    [ "$n" -lt "$ATTEMPTS" ] || fail "Temporal at $ADDRESS did not become healthy"
    sleep "$RETRY"
done

n=0
until tctl operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; do
    log "creating namespace '$NAMESPACE' (retention $RETENTION)"
    tctl operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
        --description "coldflow lead journeys" || true
    n=$((n + 1))
    [ "$n" -lt "$ATTEMPTS" ] || fail "could not create namespace '$NAMESPACE'"
    sleep "$RETRY"
done
log "namespace '$NAMESPACE' exists"

# Prints the Name=Type specs of "$@" that are missing from the listing in $LISTING.
# Exits 2 (after an error message) when one is registered with another type.
missing_specs() {
    for spec in "$@"; do
        name="${spec%%=*}"
        want="${spec#*=}"
        have="$(printf '%s\n' "$LISTING" | awk -v name="$name" '$1 == name { print $2; exit }')"
        if [ -z "$have" ]; then
            echo "$spec"
        elif [ "$have" != "$want" ]; then
            echo "temporal-setup: ERROR: search attribute $name is registered as $have," \
                "coldflow needs $want (Temporal cannot change the type of an attribute)" >&2
            return 2
        fi
    done
}

created=0
missing=""
n=0
while :; do
    LISTING="$(tctl operator search-attribute list --namespace "$NAMESPACE")" || LISTING=""
    if [ -n "$LISTING" ]; then
        rc=0
        missing="$(missing_specs "$@")" || rc=$?
        [ "$rc" -eq 0 ] || exit 1
        [ -n "$missing" ] || break
    fi
    n=$((n + 1))
    [ "$n" -le "$ATTEMPTS" ] || fail "could not register search attributes: ${missing:-listing failed}"
    if [ -n "$LISTING" ]; then
        # One attribute per call: with several --name flags, some servers register only the first.
        for spec in $missing; do
            log "registering search attribute ${spec%%=*} (${spec#*=})"
            tctl operator search-attribute create --namespace "$NAMESPACE" \
                --name "${spec%%=*}" --type "${spec#*=}" ||
                log "could not register ${spec%%=*} yet (a new namespace takes a moment); will retry"
        done
        created=1
    fi
    sleep "$RETRY"
done
log "search attributes registered: $*"

if [ "$created" = 1 ] && [ "$SETTLE" -gt 0 ]; then
    # Temporal services cache the search-attribute map; give every service time to refresh it
    # before workers start journeys that upsert the new attributes.
    log "waiting ${SETTLE}s for Temporal services to pick up the new search attributes"
    sleep "$SETTLE"
fi
log "done"
