#!/usr/bin/env bash
# tests/bench/conns.sh — how many concurrent connections each "Hello world!"
# server holds on its one thread, and the user-space memory (growth of the
# server's resident set, VmRSS) per held connection. Not a test. Part of
# `make bench`; the appendix «Измерения» explains the method.
#
#   BOOK_BIN=build/bin tests/bench/conns.sh [K...]      (default 1000 2000 5000 10000)
#
# For each server and K: K clients connect and each sends one request;
# "held" = answered and still open after the wait. The descriptor limit is
# raised to the hard limit for both sides ($(ulimit -Hn) must exceed K).
# The blocking server answers one client whatever K is: it is run for the
# two smallest K only, with a short wait.
# Data: $DATA/conns-raw.tsv, conns.tsv (held), conns-memory.tsv (bytes per
# connection at the largest K every server held in full).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash
LOADGEN=$(prog measurements-loadgen)
KS=("$@")
[ ${#KS[@]} -gt 0 ] || KS=(1000 2000 5000 10000)
REPS=${REPS_CONNS:-1}

hard=$(ulimit -Hn)
mapfile -t servers < <(hello_servers | tr ' ' '\n')
raw=$DATA/conns-raw.tsv
{ machine_notes
  printf 'rep\tserver\tconnections\theld\trefused\tpss_before_kib\tpss_after_kib\tbytes_per_conn\tkernel_bytes_per_conn\n'
} >"$raw.tmp"
PID=
trap '[ -n "$PID" ] && stop "$PID"; rm -f "$raw.tmp"' EXIT
for rep in $(seq "$REPS"); do
  for k in "${KS[@]}"; do
    if [ "$hard" != unlimited ] && [ "$k" -gt $((hard - 100)) ]; then
      echo "K=$k: предел дескрипторов $hard, пропускаю" >&2; continue
    fi
    for key in "${servers[@]}"; do
      wait_s=10
      if [ "$key" = blocking ]; then
        [ "$k" -le "${KS[1]:-${KS[0]}}" ] || continue
        wait_s=1
      fi
      port=$(free_port)
      start_server "$key" "$port"
      sleep 0.2   # let the server settle before its baseline RSS is read
      line=$(timeout 60 "${CLI[@]}" "$LOADGEN" hold "$port" "$k" "$PID" "$wait_s" || echo "$k	0	$k	0	0	0	0")
      stop "$PID"; PID=
      printf '%s\t%s\t%s\n' "$rep" "$key" "$line" >>"$raw.tmp"
      printf '\r%-16s K=%-6s held %-6s   ' "$key" "$k" "$(cut -f2 <<<"$line")" >&2
    done
  done
done
echo >&2
mv "$raw.tmp" "$raw"

{ machine_notes
  echo "# удержано (ответило и осталось открытым) из K одновременных соединений"
  printf 'сервер'; for k in "${KS[@]}"; do printf '\t%s' "$k"; done; printf '\n'
  for key in "${servers[@]}"; do
    printf '%s' "$(server_label "$key")"
    for k in "${KS[@]}"; do
      v=$(awk -F'\t' -v s="$key" -v k="$k" '$2 == s && $3 == k { print $4; exit }' "$raw")
      printf '\t%s' "${v:-—}"
    done
    printf '\n'
  done
} >"$DATA/conns.tsv"
{ machine_notes
  echo "# прирост памяти на одно удержанное соединение: пользователя — Pss сервера и его процессов-потомков; ядра — KernelStack + PageTables + SUnreclaim всей машины (сюда входят и сокеты клиента, одинаково для всех серверов); буферы сокетов не входят"
  printf 'сервер\tсоединений\tпамять пользователя, байт\tпамять ядра, байт\n'
  for key in "${servers[@]}"; do
    awk -F'\t' -v s="$key" -v l="$(server_label "$key")" '$2 == s && $4 == $3 && $4 + 0 > best { best = $4; b = $8; k = $9 }
      END { if (best > 0) printf "%s\t%d\t%d\t%d\n", l, best, b, k }' "$raw"
  done
} >"$DATA/conns-memory.tsv"

echo "Удержано соединений из K:"
grep -v '^#' "$DATA/conns.tsv" | column -t -s $'\t'
echo
echo "Память сервера на соединение:"
grep -v '^#' "$DATA/conns-memory.tsv" | column -t -s $'\t'
echo "Данные: $raw, $DATA/conns.tsv, $DATA/conns-memory.tsv"
