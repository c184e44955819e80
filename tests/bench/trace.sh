#!/usr/bin/env bash
# tests/bench/trace.sh — the cost of the trace per task step (appendix А,
# «Трасса»): tests/bench/trace_cost.c built from the library's sources twice,
# as they are and with every TRACE compiled away (-DTRACE_NONE), both -O2;
# three runs alternate REPS times (default 5) on one core: no trace at all,
# the trace closed (one test per TRACE point, four per step), the trace
# written to a file. Time per step on a shared machine is noisy, so the
# script also counts instructions per step under valgrind (cachegrind, no
# cache simulation): the difference between a run of 2N and of N steps,
# divided by N, leaves out the start and the end. Not a test: nothing is
# asserted. Data: $DATA/trace-cost.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash

mkdir -p build/bench
src=(build/src/lib/*.c)
for v in with none; do
  def=(); [ $v = none ] && def=(-DTRACE_NONE -Wno-unused-const-variable)
  ${CC:-gcc} -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror "${def[@]}" \
    -Ibuild/src/lib tests/bench/trace_cost.c "${src[@]}" -lcurl -lm -o build/bench/trace-cost-$v
done
n=${BENCH_N:-2000000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
raw=$tmp/raw
for r in $(seq "${REPS:-5}"); do
  printf 'none\t%s\n' "$(taskset -c 1 build/bench/trace-cost-none off "$n")" >>"$raw"
  printf 'off\t%s\n' "$(taskset -c 1 build/bench/trace-cost-with off "$n")" >>"$raw"
  printf 'on\t%s\n' "$(taskset -c 1 build/bench/trace-cost-with "$tmp/t.json" "$n")" >>"$raw"
  rm -f "$tmp/t.json"
done
ir() { # $1 = binary, $2 = off|FILE, $3 = steps: instructions executed
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 \
    | awk '/I *refs:/ {gsub(",", "", $NF); print $NF}'
}
per_step() { # $1 = binary, $2 = off|FILE
  local m=100000 a b
  a=$(ir "$1" "$2" $m); rm -f "$tmp/t.json"; b=$(ir "$1" "$2" $((2 * m))); rm -f "$tmp/t.json"
  echo $(((b - a) / m))
}
declare -A instr
instr[none]=$(per_step build/bench/trace-cost-none off)
instr[off]=$(per_step build/bench/trace-cost-with off)
instr[on]=$(per_step build/bench/trace-cost-with "$tmp/t.json")
taskset -c 1 build/bench/trace-cost-with "$tmp/t.json" 100000 >/dev/null
bytes=$(($(stat -c %s "$tmp/t.json") / 100000))
{
  machine_notes | sed -n 1,2p
  echo "# Наносекунд на шаг задачи через цикл, медиана $(wc -l <"$raw" | awk -v k=3 '{print $1/k}') прогонов по $n шагов; разброс -- (max-min)/медиана"
  echo "# Трасса в файле: $bytes байтов на шаг"
  printf 'trace\tns_per_step\tspread\tinstr_per_step\n'
  declare -A label=([none]="нет в коде" [off]="выключена" [on]="пишется в файл")
  for k in none off on; do
    awk -v k=$k '$1 == k {print $2}' "$raw" | sort -n | awk -v k="${label[$k]}" -v ir="${instr[$k]}" '
      {v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
      printf "%s\t%.0f\t%.0f %%\t%s\n", k, m, 100 * (v[NR] - v[1]) / m, ir}'
  done
} >"$DATA/trace-cost.tsv"
cat "$DATA/trace-cost.tsv"
