#!/usr/bin/env bash
# tests/bench/downloads.sh — chapter 11's measurement: the same N images from
# the book's image server, one after another (libcurl easy) and all at once
# (libcurl multi on the book's loop), at the same latency, in the same run.
# Not a test: numbers depend on the machine; nothing is asserted.
#
#   BOOK_BIN=build/bin tests/bench/downloads.sh [N...]   (default 10 30 100 300 1000)
#
# LATENCY (ms, default 20) delays every answer of the server; one image is
# two answers (the redirect and the picture), so the physical limit is
# N * 2 * LATENCY for the sync run and 2 * LATENCY for the async one (plus
# the transfer). The table gives both times, the speedup, and each time
# against its limit. Sync and async alternate, REPS times (default 5; once
# for N >= 1000, where the sync run alone takes 40 s); server and
# downloader are pinned to different cores; medians are reported.
# Data: $DATA/downloads-raw.tsv (every run), images-speedup.tsv (medians;
# chapter 11's figure plots it).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash
LATENCY=${LATENCY:-20}
SIZE=${SIZE:-320/240}
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10 30 100 300 1000)

port=$(free_port)
work=$(mktemp -d)
"${SRV[@]}" "$(prog images-imageserver)" --port "$port" --latency "$LATENCY" --jitter 0 >"$work/server.log" 2>&1 &
server=$!
trap 'stop $server; rm -rf "$work"' EXIT
wait_port "$port" || { echo "image server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

total() { # $1 = mode, $2 = N: the "… total time: X sec." of one run
  rm -rf "$work/img"
  "${CLI[@]}" "$(prog images-download)" --mode "$1" --count "$2" --dir "$work/img" \
    --url "http://127.0.0.1:$port/$SIZE" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
  sed -n 's/^.*total time: \([0-9.]*\) sec\.$/\1/p' "$work/out"
}

raw=$DATA/downloads-raw.tsv
{ machine_notes
  echo "# задержка $LATENCY мс на ответ, картинки $SIZE; повторений $REPS (при N ≥ 1000 — одно)"
  printf 'rep\tN\tmode\tseconds\n'
} >"$raw.tmp"
trap 'stop $server; rm -rf "$work" "$raw.tmp"' EXIT
for rep in $(seq "$REPS"); do
  for n in "${COUNTS[@]}"; do
    [ "$rep" -eq 1 ] || [ "$n" -lt 1000 ] || continue
    for mode in sync async; do
      [ $(((rep + ${#mode}) % 2)) -eq 0 ] || continue   # alternate which goes first
      printf '%s\t%s\t%s\t%s\n' "$rep" "$n" "$mode" "$(total "$mode" "$n")" >>"$raw.tmp"
    done
    for mode in sync async; do
      [ $(((rep + ${#mode}) % 2)) -ne 0 ] || continue
      printf '%s\t%s\t%s\t%s\n' "$rep" "$n" "$mode" "$(total "$mode" "$n")" >>"$raw.tmp"
    done
    printf '\r%s/%s N=%s   ' "$rep" "$REPS" "$n" >&2
  done
done
echo >&2
mv "$raw.tmp" "$raw"

summarize "$raw" 2,3 4 >build/bench/downloads.med
{ machine_notes
  echo "# tests/bench/downloads.sh, LATENCY=$LATENCY (мс на ответ), картинки ${SIZE/\//x}; медианы; разброс (макс − мин)/медиана, %"
  printf 'N\tlatency_ms\tsync_s\tasync_s\tspeedup\tsync_limit_s\tasync_limit_s\tsync_spread_pct\tasync_spread_pct\n'
  for n in "${COUNTS[@]}"; do
    awk -F'\t' -v n="$n" -v l="$LATENCY" '$1 == n { t[$2] = $3; sp[$2] = $4 }
      END { if (t["sync"] > 0 && t["async"] > 0)
              printf "%d\t%d\t%.3f\t%.3f\t%.1f\t%.3f\t%.3f\t%d\t%d\n", n, l, t["sync"], t["async"],
                     t["sync"] / t["async"], n * 2 * l / 1000, 2 * l / 1000, sp["sync"], sp["async"] }' build/bench/downloads.med
  done
} >"$DATA/images-speedup.tsv"

printf '%6s %10s %10s %9s %14s %15s\n' N "sync, s" "async, s" speedup "sync/limit" "async/limit"
awk -F'\t' '!/^#/ && $1 != "N" { printf "%6s %10s %10s %8sx %8.2f (%s) %8.2f (%s)\n", $1, $3, $4, $5, $3 / $6, $6, $4 / $7, $7 }' \
  "$DATA/images-speedup.tsv"
echo "latency ${LATENCY} ms per answer, images $SIZE; data: $raw, $DATA/images-speedup.tsv"
