#!/usr/bin/env bash
# tests/bench/downloads.sh — chapter 9's measurement: the same N images from
# the book's image server, one after another (libcurl easy) and all at once
# (libcurl multi on the book's loop), at the same latency, in the same run.
# Not a test: numbers depend on the machine; nothing is asserted.
#
#   BOOK_BIN=build/bin tests/bench/downloads.sh [N...]      (default 10 100 1000)
#
# LATENCY (ms, default 20) delays every answer of the server; one image is
# two answers (the redirect and the picture), so the physical limit is
# N * 2 * LATENCY for the sync run and 2 * LATENCY for the async one (plus
# the transfer). The table gives both times, the speedup, and each time
# against its limit. Raw data: build/bench/downloads.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BOOK_BIN:-build/bin}
LATENCY=${LATENCY:-20}
SIZE=${SIZE:-320/240}
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10 100 1000)
mkdir -p build/bench
tsv=build/bench/downloads.tsv
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

port=$((20000 + RANDOM % 20000))
work=$(mktemp -d)
"$BIN/09-images-imageserver" --port "$port" --latency "$LATENCY" --jitter 0 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done

total() { # $1 = mode, $2 = N: the "… total time: X sec." of one run
  rm -rf "$work/img"
  "$BIN/09-images-download" --mode "$1" --count "$2" --dir "$work/img" \
    --url "http://127.0.0.1:$port/$SIZE" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
  sed -n 's/^.*total time: \([0-9.]*\) sec\.$/\1/p' "$work/out"
}

printf 'N\tlatency_ms\tsync_s\tasync_s\tspeedup\tsync_limit_s\tasync_limit_s\n' >"$tsv"
printf '%6s %10s %10s %9s %14s %15s\n' N "sync, s" "async, s" speedup "sync/limit" "async/limit"
for n in "${COUNTS[@]}"; do
  s=$(total sync "$n")
  a=$(total async "$n")
  read -r sl al sp sr ar < <(awk -v n="$n" -v l="$LATENCY" -v s="$s" -v a="$a" 'BEGIN {
    sl = n * 2 * l / 1000; al = 2 * l / 1000
    printf "%.3f %.3f %.1f %.2f %.2f\n", sl, al, s / a, s / sl, a / al }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$LATENCY" "$s" "$a" "$sp" "$sl" "$al" >>"$tsv"
  printf '%6s %10s %10s %8sx %8s (%s) %8s (%s)\n' "$n" "$s" "$a" "$sp" "$sr" "$sl" "$ar" "$al"
done
echo "latency ${LATENCY} ms per answer, images $SIZE; raw data: $tsv"
