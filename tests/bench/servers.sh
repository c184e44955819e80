#!/usr/bin/env bash
# tests/bench/servers.sh — the first table of the book's measurements:
# the same load against the blocking server (chapter 02), the select
# server (chapter 03) and the selectors server (chapter 04) with each
# backend. Not a test: numbers depend on the machine; nothing is asserted.
#
#   BOOK_BIN=build/bin tests/bench/servers.sh [CLIENTS...]
#
# For every server and every client count N: N clients connect at once and
# each sends one request ("served at once" = answered while all N were
# connected, "refused" = closed by the server); then the answered clients
# make REQS more round trips each, concurrently (requests per second).
# Raw data: build/bench/servers.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BOOK_BIN:-build/bin}
REQS=${REQS:-1000}
IDLE=${IDLE:-1000}   # idle connections in the second scenario
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10 100 1500)
# Scenarios "N:IDLE": N active clients, plus IDLE silent connections.
SCEN=()
for n in "${COUNTS[@]}"; do SCEN+=("$n:0"); done
SCEN+=("10:$IDLE")
mkdir -p build/bench
cc -std=c11 -O2 -Wall -Wextra -Werror -o build/bench/loadgen tests/bench/loadgen.c

# The load client and the servers need more than 1024 descriptors.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

wait_port() { # $1 = port
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

servers=("02-blocking-server:" "03-select-server:")
backends=$("$BIN/04-selectors-server" --list-backends 2>/dev/null || echo "epoll poll select")
for b in $backends; do servers+=("04-selectors-server:$b"); done

tsv=build/bench/servers.tsv
printf 'server\tbackend\tidle\tclients\tat_once\trefused\trequests\tseconds\treq_per_s\n' >"$tsv"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

for entry in "${servers[@]}"; do
  prog=${entry%%:*} backend=${entry#*:}
  for sc in "${SCEN[@]}"; do
    n=${sc%%:*} idle=${sc#*:}
    port=$(free_port)
    args=(--port "$port")
    [ -n "$backend" ] && args+=(--backend "$backend")
    "$BIN/$prog" "${args[@]}" >/dev/null 2>&1 &
    pid=$!
    if ! wait_port "$port"; then echo "$prog did not start" >&2; kill "$pid"; exit 1; fi
    line=$(timeout 60 build/bench/loadgen "$port" "$n" "$REQS" 2000 "$idle")
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    printf '%s\t%s\t%s\t%s\n' "$prog" "${backend:--}" "$idle" "$line" >>"$tsv"
  done
done

echo "Requests: $REQS round trips per answered client; loopback; $(nproc) CPU"
column -t -s $'\t' "$tsv"
# Ratios against the blocking server (served at once) and against the
# select server (requests per second), same scenario.
awk -F'\t' 'NR == 1 { next }
  { k = $3 ":" $4; row[NR] = $0
    if ($1 == "02-blocking-server") blk[k] = $5
    if ($1 == "03-select-server") sel[k] = $9 }
  END { print ""
        printf "%-20s %-7s %-11s %-22s %s\n", "server", "backend", "idle:N", "served at once / blocking", "req/s / select server"
        for (i = 2; i <= NR; i++) { split(row[i], f, "\t"); k = f[3] ":" f[4]
          a = blk[k] > 0 ? sprintf("x%.0f", f[5] / blk[k]) : "-"
          b = sel[k] > 0 ? sprintf("%.2f", f[9] / sel[k]) : "-"
          printf "%-20s %-7s %-11s %-22s %s\n", f[1], f[2], k, a, b } }' "$tsv"
