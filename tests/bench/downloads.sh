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
# the transfer). A second server answers at once (latency 0): the async run
# against it is the floor that is not waiting -- the CPU work of both sides
# and of the kernel for N images. The CPU time of the downloader (bash's
# `time`) and of the server (/proc/PID/stat) per image is kept too. Runs
# alternate, REPS times (default 5; the sync run once for N >= 1000, where
# it alone takes 40 s); server and downloader are pinned to different cores;
# medians are reported. Images go to a fresh directory on tmpfs (/dev/shm)
# when it has room, else on disk (IMGDIR overrides): on ext4 a file created
# right after a thousand were deleted costs several times more (the
# allocator skips recently freed inodes), which would measure rm -rf.
# Then, at N = 100 and 1000 only, a profile (downloads-profile.tsv): system
# calls of the downloader per image (strace -c; connect shows reuse), where
# the CPU time of both goes (perf, if it may run), the downloader by 100,
# by 256 (its default) and all at once, and curl's own parallel mode
# (curl -Z, libcurl's loop) at 256.
# Data: $DATA/downloads-raw.tsv (every run), images-speedup.tsv (medians;
# chapter 11's figure plots it), downloads-floor.tsv (the async run against
# its limit and the floor), downloads-profile.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash
# As root (BENCH_RT=0 turns it off) server and downloader run at real-time
# priority (chrt -f 50): on a shared machine other work then cannot take
# their cores in the middle of a run of a tenth of a second (the kernel
# still leaves 5 % of each second to everybody else); the data says so.
RT_NOTE=
if [ "${BENCH_RT:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v chrt >/dev/null; then
  SRV=(chrt -f 50 "${SRV[@]}") CLI=(chrt -f 50 "${CLI[@]}")
  RT_NOTE="; сервер и загрузчик с приоритетом реального времени (chrt -f 50)"
fi
LATENCY=${LATENCY:-20}
SIZE=${SIZE:-320/240}
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10 30 100 300 1000)

work=$(mktemp -d)
if [ -z "${IMGDIR:-}" ]; then
  IMGDIR=$work
  if [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt 2000000 ]; then
    IMGDIR=$(mktemp -d /dev/shm/book-bench.XXXXXX)
  fi
fi
servers=()
cleanup() { for s in "${servers[@]}"; do stop "$s"; done; rm -rf "$work" "$IMGDIR" "${raw:-/nonexistent}.tmp"; }
trap cleanup EXIT
start_server() { # $1 = latency (ms); sets $port and $pid
  port=$(free_port)
  "${SRV[@]}" "$(prog images-imageserver)" --port "$port" --latency "$1" --jitter 0 \
    >"$work/server-$1.log" 2>&1 &
  pid=$!
  servers+=("$pid")
  wait_port "$port" || { echo "image server did not start" >&2; cat "$work/server-$1.log" >&2; exit 1; }
}
start_server "$LATENCY"; port_l=$port pid_l=$pid
start_server 0;          port_0=$port pid_0=$pid

show_tsv() { awk -F'\t' '!/^#/ { printf "%-56s", $1; for (i = 2; i <= NF; i++) printf " %12s", $i; print "" }' "$1"; }
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # ticks of user + system time
TICK=$(getconf CLK_TCK)
seq_no=0

# One run: $1 = mode, $2 = N, $3 = port, $4 = server pid. Prints
# "seconds client_ms_per_image server_ms_per_image".
run() {
  local dir="$IMGDIR/run-$((seq_no += 1))" s0 s1 t
  s0=$(cpu_of "$4")
  t=$( { TIMEFORMAT='%U %S'; time "${CLI[@]}" "$(prog images-download)" --mode "$1" --count "$2" \
         --dir "$dir" --quiet --url "http://127.0.0.1:$3/$SIZE" >"$work/out" 2>&1; } 2>&1 ) \
    || { cat "$work/out" >&2; exit 1; }
  s1=$(cpu_of "$4")
  rm -rf "$dir"
  sed -n 's/^.*total time: \([0-9.]*\) sec\..*$/\1/p' "$work/out" | tr '\n' ' '
  awk -v t="$t" -v n="$2" -v s="$((s1 - s0))" -v hz="$TICK" -v b="$BASE" \
    'BEGIN { split(t, c, " "); printf "%.3f %.3f\n", ((c[1] + c[2]) * 1000 - b) / n, s / hz * 1000 / n }'
}
# The downloader's CPU time for no image at all (loading libcurl and the
# libraries it needs, ~50 ms): taken off every run, the median of three.
BASE=0
BASE=$(for _ in 1 2 3; do { TIMEFORMAT='%U %S'; time "${CLI[@]}" "$(prog images-download)" --count 0 \
         --dir "$IMGDIR/none" --quiet >/dev/null 2>&1; } 2>&1; done \
       | awk '{ print ($1 + $2) * 1000 }' | sort -n | sed -n 2p)

raw=$DATA/downloads-raw.tsv
{ machine_notes
  echo "# задержка $LATENCY мс на ответ (floor — второй сервер, без задержки), картинки $SIZE; повторений $REPS (синхронный при N ≥ 1000 — один); картинки пишутся в ${IMGDIR%/*}$RT_NOTE"
  echo "# client_ms, server_ms — процессорное время загрузчика (без $BASE мс на запуск) и сервера на картинку, мс"
  printf 'rep\tN\tmode\tseconds\tclient_ms\tserver_ms\n'
} >"$raw.tmp"
for rep in $(seq "$REPS"); do
  for n in "${COUNTS[@]}"; do
    sync=sync
    [ "$rep" -eq 1 ] || [ "$n" -lt 1000 ] || sync=   # at N >= 1000 40 s: once
    modes=($sync async floor)
    [ $((rep % 2)) -eq 1 ] || modes=(floor async $sync)   # alternate which goes first
    for mode in "${modes[@]}"; do
      case $mode in
        floor) r=$(run async "$n" "$port_0" "$pid_0") ;;
        *) r=$(run "$mode" "$n" "$port_l" "$pid_l") ;;
      esac
      printf '%s\t%s\t%s\t%s\n' "$rep" "$n" "$mode" "${r// /$'\t'}" >>"$raw.tmp"
    done
    printf '\r%s/%s N=%s   ' "$rep" "$REPS" "$n" >&2
  done
done
echo >&2
mv "$raw.tmp" "$raw"

summarize "$raw" 2,3 4 >build/bench/downloads.med
summarize "$raw" 2,3 5 >build/bench/downloads-client.med
summarize "$raw" 2,3 6 >build/bench/downloads-server.med
{ machine_notes
  echo "# tests/bench/downloads.sh, LATENCY=$LATENCY (мс на ответ), картинки ${SIZE/\//x}; медианы; разброс (макс − мин)/медиана, %$RT_NOTE"
  printf 'N\tlatency_ms\tsync_s\tasync_s\tspeedup\tsync_limit_s\tasync_limit_s\tsync_spread_pct\tasync_spread_pct\n'
  for n in "${COUNTS[@]}"; do
    awk -F'\t' -v n="$n" -v l="$LATENCY" '$1 == n { t[$2] = $3; sp[$2] = $4 }
      END { if (t["sync"] > 0 && t["async"] > 0)
              printf "%d\t%d\t%.3f\t%.3f\t%.1f\t%.3f\t%.3f\t%d\t%d\n", n, l, t["sync"], t["async"],
                     t["sync"] / t["async"], n * 2 * l / 1000, 2 * l / 1000, sp["sync"], sp["async"] }' \
      build/bench/downloads.med
  done
} >"$DATA/images-speedup.tsv"
{ machine_notes
  echo "# tests/bench/downloads.sh: асинхронная загрузка при задержке $LATENCY мс (async_s) и без задержки (floor_s), картинки ${SIZE/\//x}; медианы; client_ms, server_ms — процессорное время загрузчика (без $BASE мс на запуск программы) и сервера на картинку в прогоне async, мс$RT_NOTE"
  printf 'N\tasync_limit_s\tasync_s\tasync_per_limit\tfloor_s\tclient_ms\tserver_ms\n'
  for n in "${COUNTS[@]}"; do
    awk -F'\t' -v n="$n" -v l="$LATENCY" '
      FILENAME ~ /client/ { if ($1 == n && $2 == "async") c = $3; next }
      FILENAME ~ /server/ { if ($1 == n && $2 == "async") s = $3; next }
      $1 == n { t[$2] = $3 }
      END { if (t["async"] > 0)
              printf "%d\t%.3f\t%.3f\t%.1f\t%.3f\t%.2f\t%.2f\n", n, 2 * l / 1000, t["async"],
                     t["async"] / (2 * l / 1000), t["floor"], c, s }' \
      build/bench/downloads.med build/bench/downloads-client.med build/bench/downloads-server.med
  done
} >"$DATA/downloads-floor.tsv"

printf '%6s %9s %9s %8s %12s %12s\n' N "sync, s" "async, s" speedup "sync/limit" "async/limit"
awk -F'\t' '!/^#/ && $1 != "N" { printf "%6s %9s %9s %7sx %12.2f %12.2f\n", $1, $3, $4, $5, $3 / $6, $4 / $7 }' \
  "$DATA/images-speedup.tsv"
show_tsv "$DATA/downloads-floor.tsv"
echo "latency ${LATENCY} ms per answer, images $SIZE; data: $raw, $DATA/images-speedup.tsv, $DATA/downloads-floor.tsv"

# ---- profile at N = 100 and 1000 -------------------------------------------
# Each column is one run (after the runs above, so caches are warm).
declare -A P
profile() { # $1 = N
  local n=$1 dir="$IMGDIR/profile" v
  # system calls of the downloader per image (strace slows it; counts only)
  if command -v strace >/dev/null; then
    strace -f -c -o "$work/strace" "$(prog images-download)" --mode async --count "$n" \
      --dir "$dir" --quiet --url "http://127.0.0.1:$port_l/$SIZE" >/dev/null 2>&1 || true
    rm -rf "$dir"
    for v in recvfrom write poll epoll_ctl connect openat; do
      P[$v,$n]=$(awk -v s="$v" -v n="$n" '$NF == s { printf "%.1f", $4 / n }' "$work/strace")
    done
    P[total,$n]=$(awk -v n="$n" '$NF == "total" { printf "%.0f", $4 / n }' "$work/strace")
  fi
  # where the CPU time goes: shares by shared object, both processes
  if command -v perf >/dev/null && perf record -q -o "$work/probe.perf" true 2>/dev/null; then
    perf record -q -o "$work/server.perf" -p "$pid_l" 2>/dev/null & local rec=$!
    sleep 0.2
    perf record -q -o "$work/client.perf" "${CLI[@]}" "$(prog images-download)" --mode async \
      --count "$n" --dir "$dir" --quiet --url "http://127.0.0.1:$port_l/$SIZE" >/dev/null 2>&1
    kill -INT "$rec"; wait "$rec" 2>/dev/null || true
    rm -rf "$dir"
    for side in client server; do
      perf report -q -i "$work/$side.perf" --sort dso --stdio 2>/dev/null \
        | awk '{ sub(/%/, "", $1); d = $2; sub(/.*\//, "", d); sub(/\.so.*/, "", d); sub(/^[0-9][0-9]-/, "", d)
                 if (d ~ /kernel/) d = "kernel"; else if (d !~ /^(libcurl|libc|images-)/) d = "other"
                 s[d] += $1 } END { for (d in s) printf "%s\t%.0f\n", d, s[d] }' >"$work/$side.dso"
      for v in kernel libcurl libc images-download images-imageserver other; do
        P[$side-$v,$n]=$(awk -F'\t' -v d="$v" '$1 == d { print $2 }' "$work/$side.dso")
      done
    done
  fi
  # how many at once: ours by 100, by default (256) and all at once, and
  # curl's own parallel mode (libcurl's loop) at our default; five times
  # each, alternating; ours by its own "total time", curl by the wall time
  # of the whole process (so curl's includes starting the program)
  local t0 t1 k c
  : >"$work/cmp-$n"
  for k in 1 2 3 4 5; do
    for c in 100 default all curl; do
      t0=$(date +%s.%N)
      if [ "$c" = curl ]; then
        "${CLI[@]}" curl -s --no-progress-meter -Z --parallel-max 256 -L -o "$dir/#1.png" \
          --create-dirs -w '%{time_starttransfer}\n' "http://127.0.0.1:$port_l/$SIZE?[1-$n]" >"$work/curl"
        v="0 0"
        sort -n "$work/curl" | awk '{ v[NR] = $1 } END { print "ttfb", v[int((NR + 1) / 2)] }' >>"$work/cmp-$n"
      else
        local lim=()
        [ "$c" = default ] || lim=(--limit "$([ "$c" = all ] && echo "$n" || echo "$c")")
        v=$( { TIMEFORMAT='%U %S'; time "${CLI[@]}" "$(prog images-download)" --mode async "${lim[@]}" \
               --count "$n" --dir "$dir" --quiet --url "http://127.0.0.1:$port_l/$SIZE" >"$work/out" 2>&1; } 2>&1 )
      fi
      t1=$(date +%s.%N)
      rm -rf "$dir"
      if [ "$c" = curl ]; then    # the whole process: curl prints no time of its own
        echo "wall-$c $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$work/cmp-$n"
      else                        # the run, as in the tables above
        echo "wall-$c $(sed -n 's/^.*total time: \([0-9.]*\) sec\..*$/\1/p' "$work/out")" >>"$work/cmp-$n"
        [ "$c" != default ] || echo "proc-$c $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$work/cmp-$n"
      fi
      awk -v c="$c" -v t="$v" -v n="$n" -v b="$BASE" \
        'BEGIN { split(t, x, " "); print "cpu-" c, ((x[1] + x[2]) * 1000 - b) / n }' >>"$work/cmp-$n"
    done
  done
  for k in wall-100 wall-default wall-all proc-default wall-curl ttfb cpu-100 cpu-default cpu-all; do
    P[$k,$n]=$(awk -v k="$k" '$1 == k { print $2 }' "$work/cmp-$n" | sort -n | sed -n 3p \
               | awk -v k="$k" '{ printf(k ~ /^cpu/ ? "%.2f" : "%.3f", $1) }')
  done
}
profile 100
profile 1000
{ machine_notes
  echo "# tests/bench/downloads.sh: профиль асинхронной загрузки при задержке $LATENCY мс, картинки ${SIZE/\//x}; по одному прогону на столбец; пусто — инструмента нет$RT_NOTE"
  printf 'что\tN = 100\tN = 1000\n'
  row() { printf '%s\t%s\t%s\n' "$1" "${P[$2,100]:-}" "${P[$2,1000]:-}"; }
  row "системных вызовов загрузчика на картинку (\`strace -c\`)" total
  for v in recvfrom write poll epoll_ctl connect openat; do row "из них \`$v\`" "$v"; done
  for side in client server; do
    for v in kernel libcurl libc images-download images-imageserver other; do
      [ -n "${P[$side-$v,100]:-}${P[$side-$v,1000]:-}" ] || continue
      row "$([ $side = client ] && echo загрузчик || echo сервер): доля $v, % (\`perf\`)" "$side-$v"
    done
  done
  row "наш загрузчик по 100 сразу, с (медиана пяти)" wall-100
  row "наш загрузчик по 256 (по умолчанию), с" wall-default
  row "наш загрузчик все сразу (\`--limit N\`), с" wall-all
  row "он же по 256, с запуском программы, с" proc-default
  row "\`curl -Z --parallel-max 256\`, с запуском программы, с" wall-curl
  row "curl: медиана \`time_starttransfer\`, с" ttfb
  row "процессор загрузчика на картинку по 100, мс" cpu-100
  row "то же по 256 (по умолчанию), мс" cpu-default
  row "то же все сразу, мс" cpu-all
} >"$DATA/downloads-profile.tsv"
show_tsv "$DATA/downloads-profile.tsv"
