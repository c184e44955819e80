#!/usr/bin/env bash
# tests/bench/servers.sh — requests per second of the "Hello world!" servers
# (chapters 2, 3, 4 with each backend, 5, 8) next to a libuv program and a
# Python asyncio program serving the same protocol, at 1, 10, 100 and 1,000
# concurrent clients and with 10 active clients among 900 silent ones.
# Not a test: nothing is asserted. Part of `make bench`; the appendix
# «Измерения» explains the method.
#
#   BOOK_BIN=build/bin tests/bench/servers.sh       (REPS=5, SECONDS_PER_RUN=1)
#
# The client is build/bin/10-measurements-loadgen (the appendix's program):
# N connections, one request in flight on each; after a warm-up in which
# every client gets its first answer, it counts answers for SECONDS_PER_RUN.
# Each repetition runs every server once per scenario, the order of the
# servers rotating from one repetition to the next.
# Data: $DATA/servers-raw.tsv (every run), servers.tsv (median thousand
# requests/s), servers-ratio.tsv (median of the per-repetition ratios to our
# async server, chapter 10), servers-cpu.tsv (server CPU time per answer:
# the loadgen reads /proc/PID/stat around the timed window).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash
DUR=${SECONDS_PER_RUN:-1}
LOADGEN=$(prog measurements-loadgen)
SCEN=(1:0 10:0 100:0 1000:0 10:900)

mapfile -t servers < <(hello_servers | tr ' ' '\n')
raw=$DATA/servers-raw.tsv
{ machine_notes
  echo "# повторений: $REPS по $DUR с, порядок серверов сдвигается с каждым повторением"
  printf 'rep\tserver\tclients\tidle\tat_once\trefused\trequests\tseconds\treq_per_s\tserver_cpu_us_per_req\n'
} >"$raw.tmp"
PID=
trap '[ -n "$PID" ] && stop "$PID"; rm -f "$raw.tmp"' EXIT

ns=${#servers[@]}
for rep in $(seq "$REPS"); do
  for sc in "${SCEN[@]}"; do
    n=${sc%%:*} idle=${sc#*:}
    for i in $(seq 0 $((ns - 1))); do
      key=${servers[$(((i + rep) % ns))]}
      port=$(free_port)
      start_server "$key" "$port"
      line=$(timeout 30 "${CLI[@]}" "$LOADGEN" rps "$port" "$n" "$DUR" "$idle" "$PID" || echo "$n	0	$n	0	0	0	-1")
      stop "$PID"; PID=
      printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$key" "$n" "$idle" "$(cut -f2- <<<"$line")" >>"$raw.tmp"
      printf '\r%s/%s %-16s %5s+%-4s %s req/s   ' "$rep" "$REPS" "$key" "$n" "$idle" "$(cut -f6 <<<"$line")" >&2
    done
  done
done
echo >&2
mv "$raw.tmp" "$raw"

# The book's tables: servers as rows, scenarios as columns.
table() { # $1 = file with "server<TAB>clients<TAB>idle<TAB>value" lines, $2 = printf format
  {
    printf 'сервер\t1\t10\t100\t1000\t10 + 900 молчащих\n'
    for key in "${servers[@]}"; do
      printf '%s' "$(server_label "$key")"
      for sc in "${SCEN[@]}"; do
        v=$(awk -F'\t' -v s="$key" -v n="${sc%%:*}" -v i="${sc#*:}" '$1 == s && $2 == n && $3 == i { print $4 }' "$1")
        printf "\t$2" "${v:-0}"
      done
      printf '\n'
    done
  }
}
summarize "$raw" 2,3,4 9 >build/bench/servers.med
awk -F'\t' '{ if ($5 > s) s = $5 } END { print s + 0 }' build/bench/servers.med >build/bench/servers.spread
awk -F'\t' 'NR > 1 && !/^#/ { if ($2 == "async") base[$1, $3, $4] = $9; r[NR] = $0 }
  END { for (i in r) { split(r[i], f, "\t"); b = base[f[1], f[3], f[4]]
          if (b > 0) printf "%s\t%s\t%s\t%s\t%s\n", f[1], f[2], f[3], f[4], f[9] / b } }' "$raw" |
  sort -n | { printf 'rep\tserver\tclients\tidle\tratio\n'; cat; } >build/bench/servers-ratio.raw
summarize build/bench/servers-ratio.raw 2,3,4 5 >build/bench/servers-ratio.med
{ machine_notes
  echo "# тысяч ответов в секунду, медиана $REPS повторений; наибольший разброс (макс − мин)/медиана в таблице: $(cat build/bench/servers.spread) %"
  awk -F'\t' '{ printf "%s\t%s\t%s\t%.1f\n", $1, $2, $3, $4 / 1000 }' build/bench/servers.med >build/bench/servers.k
  table build/bench/servers.k '%s'
} >"$DATA/servers.tsv"
{ machine_notes
  echo "# во сколько раз быстрее (>1) или медленнее (<1) сервера async из главы 8: медиана отношений, взятых в каждом повторении"
  awk -F'\t' '{ printf "%s\t%s\t%s\t%.2f\n", $1, $2, $3, $4 }' build/bench/servers-ratio.med >build/bench/servers-ratio.k
  table build/bench/servers-ratio.k '%s'
} >"$DATA/servers-ratio.tsv"
summarize "$raw" 2,3,4 10 >build/bench/servers-cpu.med
{ machine_notes
  echo "# процессорное время сервера (user + system) на один ответ, мкс, медиана $REPS повторений: цена запроса, не зависящая от того, упёрся ли в потолок клиент"
  awk -F'\t' '{ if ($4 < 0) printf "%s\t%s\t%s\t—\n", $1, $2, $3; else printf "%s\t%s\t%s\t%.2f\n", $1, $2, $3, $4 }' \
    build/bench/servers-cpu.med >build/bench/servers-cpu.k
  table build/bench/servers-cpu.k '%s'
} >"$DATA/servers-cpu.tsv"

echo "Тысяч ответов в секунду (медиана; клиентов одновременно):"
grep -v '^#' "$DATA/servers.tsv" | column -t -s $'\t'
echo
echo "Отношение к серверу async (гл. 10), тот же прогон:"
grep -v '^#' "$DATA/servers-ratio.tsv" | column -t -s $'\t'
echo
echo "Процессорное время сервера на ответ, мкс:"
grep -v '^#' "$DATA/servers-cpu.tsv" | column -t -s $'\t'
echo "Данные: $raw, $DATA/servers.tsv, $DATA/servers-ratio.tsv, $DATA/servers-cpu.tsv"
