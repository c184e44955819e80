#!/usr/bin/env bash
# tests/bench/traces.sh — record the traces the book's timelines are drawn
# from (appendix А, «Трасса»), into book/data/trace-*.json:
#   roundrobin  the round-robin of chapter 5 (letters and numbers);
#   nums        nums --seconds 1 of chapter 9 (print_nums and print_time);
#   webapp      one request to the web app of chapter 10;
#   dl-sync, dl-async  eight downloads from the image server of chapter 11
#               (latency 100 ms, no jitter), one after another and all at once.
# Every trace is checked by tests/trace_check.py before it is kept.
# Programs are found by name in $BOOK_BIN (tests/progs.bash); ports are free
# ones on loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash
out=$DATA
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

keep() {   # keep NAME: check the trace recorded in $tmp/NAME.json, then move it
    python3 tests/trace_check.py "$tmp/$1.json"
    mv "$tmp/$1.json" "$out/trace-$1.json"
    echo "$out/trace-$1.json: $(grep -c '"ph"' "$out/trace-$1.json") events"
}
# wait until the server's log has its banner (not by connecting: that would
# be one more client in the trace)
wait_banner() { for _ in $(seq 100); do grep -qs Listening "$1" && return 0; sleep 0.05; done; return 1; }

"$(prog generators-roundrobin)" --trace "$tmp/roundrobin.json" >/dev/null
keep roundrobin
"$(prog tasks-nums)" --seconds 1 --trace "$tmp/nums.json" >/dev/null
keep nums

web_port=$(free_port)
"$(prog sockets-webapp)" --port "$web_port" --trace "$tmp/webapp.json" >"$tmp/web.log" &
pids+=($!)
wait_banner "$tmp/web.log"
curl -s -o /dev/null -H 'Connection: close' "http://127.0.0.1:$web_port/"
sleep 0.2
kill -TERM "${pids[0]}"; wait "${pids[0]}"; pids=()
keep webapp

img_port=$(free_port)
"$(prog images-imageserver)" --port "$img_port" --latency 100 --jitter 0 >"$tmp/img.log" 2>&1 &
pids+=($!)
wait_banner "$tmp/img.log"
for mode in sync async; do
    "$(prog images-download)" --count 8 --url "http://127.0.0.1:$img_port/320/240" --dir "$tmp/img-$mode" \
        --mode "$mode" --quiet --trace "$tmp/dl-$mode.json" >/dev/null
    keep "dl-$mode"
done
