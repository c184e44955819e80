#!/usr/bin/env bash
# tests/bench/generators.sh — the price of a generator switch (make bench).
# Ours (lib/gen.c, chapters 5-7) next to a ucontext switch and a CPython
# generator's next(), in the same run; the cost of yield-from depth; memory
# per suspended generator and C stack per link of a delegation chain.
# Raw data: build/bench/generators.tsv. Not a test: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=build/bench
mkdir -p "$out"
bin=$out/bench-generators
tsv=$out/generators.tsv
n=${BENCH_N:-20000000}

${CC:-gcc} -std=c11 -O2 -Wall -Wextra -Werror -Igenerated/lib \
  tests/bench/generators.c generated/lib/gen.c -o "$bin"

"$bin" "$n" >"$tsv.tmp"

py=none
if command -v python3 >/dev/null; then
  py=$(python3 -V 2>&1 | cut -d' ' -f2)
  python3 - "$((n / 10))" >>"$tsv.tmp" <<'PY'
import sys, timeit, tracemalloc
n = int(sys.argv[1])
def counter():
    i = 0
    while True:
        i += 1
        yield i
g = counter()
nx = next
t = min(timeit.repeat(lambda: None, number=1, repeat=1))  # warm the timer
t = min(timeit.repeat("nx(g)", globals={"nx": nx, "g": g}, number=n, repeat=3))
print(f"python_next\t{t / n * 1e9:.2f}\tns")
def relay(sub):
    yield from sub
g3 = relay(relay(counter()))
t = min(timeit.repeat("nx(g)", globals={"nx": nx, "g": g3}, number=n, repeat=3))
print(f"python_next_depth3\t{t / n * 1e9:.2f}\tns")
tracemalloc.start()
k = 100000
before = tracemalloc.get_traced_memory()[0]
gens = [counter() for _ in range(k)]
for x in gens:
    next(x)
after = tracemalloc.get_traced_memory()[0]
print(f"python_memory_per_suspended\t{(after - before) / k:.1f}\tbytes")
PY
else
  echo "python3 не найден: строка CPython пропущена" >&2
fi
mv "$tsv.tmp" "$tsv"

val() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == 0) print "-"; else printf "%.1fx", b / a }'; }

g=$(val gen_resume_yield); g3=$(val gen_resume_yield_depth3); u=$(val ucontext_round_trip)
p=$(val python_next); p3=$(val python_next_depth3)
row() { printf '%10s  %8s  %s\n' "$1" "$2" "$3"; }
echo "Возобновить и снова остановиться, нс на шаг ($n шагов; к нашему = во сколько раз дольше)"
echo "        нс  к нашему  что"
row "$g" "1.0x" "генератор gen.h: gen_next + GEN_YIELD"
row "$(val gen_send_yield)" "$(ratio "$g" "$(val gen_send_yield)")" "gen.h: gen_send + GEN_YIELD_CATCH"
row "$(val gen_throw_caught_yield)" "$(ratio "$g" "$(val gen_throw_caught_yield)")" "gen.h: gen_throw, ошибка поймана, снова GEN_YIELD_CATCH"
row "$g3" "$(ratio "$g" "$g3")" "gen.h через цепочку GEN_YIELD_FROM глубины 3"
row "$(val gen_resume_yield_depth10)" "$(ratio "$g" "$(val gen_resume_yield_depth10)")" "gen.h, глубина 10"
row "$(val gen_resume_yield_depth100)" "$(ratio "$g" "$(val gen_resume_yield_depth100)")" "gen.h, глубина 100"
row "$u" "$(ratio "$g" "$u")" "ucontext: swapcontext туда и обратно"
if [ "$py" != none ]; then
  row "$p" "$(ratio "$g" "$p")" "CPython $py: next(g)"
  row "$p3" "$(ratio "$g" "$p3")" "CPython $py: next(g) через yield from глубины 3"
fi
echo
echo "Память на один приостановленный генератор, байт"
row "$(val gen_struct_size)" "" "gen.h: sizeof(gen) + кадр счётчика"
row "$(val gen_memory_per_suspended)" "" "gen.h: прирост RSS на генератор (с накладными malloc)"
row "$(val ucontext_stack_per_coroutine)" "" "ucontext: стек сопрограммы (выбран нами, 64 КиБ)"
if [ "$py" != none ]; then
  row "$(val python_memory_per_suspended)" "" "CPython $py: tracemalloc на генератор"
fi
echo
echo "Стек C на одно звено цепочки GEN_YIELD_FROM (рекурсия resume): $(val gen_stack_per_link) байт"
echo "Данные: $tsv"
