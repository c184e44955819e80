#!/usr/bin/env bash
# tests/bench/generators.sh — the price of a generator switch (make bench).
# Ours (lib/gen.c, chapters 5-7) next to a ucontext switch and a CPython
# generator's next(), in the same run; the cost of yield-from depth; a Task
# step through the loop of chapter 8 next to an asyncio Task step; memory per
# suspended generator and per suspended task; C stack per link of a
# delegation chain. Not a test: nothing is asserted.
# The C program and the Python one alternate REPS times (default 5), pinned
# to one core; the book shows medians and the spread (max-min)/median.
# Data: $DATA/coroutines-raw.tsv, coroutines.tsv (ns per step, ratio to our
# generator), coroutines-memory.tsv (bytes).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash

bin=build/bench/bench-generators
n=${BENCH_N:-20000000}
# The Task step needs the loop of chapter 8: link the book's library (built
# by `make programs`, which `make bench` runs first).
${CC:-gcc} -std=c11 -O2 -Wall -Wextra -Werror -Ibuild/src/lib \
  tests/bench/generators.c build/lib/libbook.a -lcurl -lm -o "$bin"

python_part() { # $1 = steps
  python3 - "$1" <<'PY'
import asyncio, sys, timeit
n = int(sys.argv[1])
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
def counter():
    i = 0
    while True:
        i += 1
        yield i
g = counter()
nx = next
t = min(timeit.repeat("nx(g)", globals={"nx": nx, "g": g}, number=n, repeat=3))
print(f"python_next\t{t / n * 1e9:.2f}\tns")
def relay(sub):
    yield from sub
g3 = relay(relay(counter()))
t = min(timeit.repeat("nx(g)", globals={"nx": nx, "g": g3}, number=n, repeat=3))
print(f"python_next_depth3\t{t / n * 1e9:.2f}\tns")
k = 100000
before = rss()
gens = [counter() for _ in range(k)]
for x in gens:
    next(x)
print(f"python_memory_per_suspended\t{(rss() - before) / k:.1f}\tbytes")
del gens
async def spin(m):
    for _ in range(m):
        await asyncio.sleep(0)
loop = asyncio.new_event_loop()
m = n // 20
t0 = timeit.default_timer()
loop.run_until_complete(spin(m))
print(f"python_task_step\t{(timeit.default_timer() - t0) / m * 1e9:.2f}\tns")
async def waiter(f):
    await f
async def park(k):
    futs = [loop.create_future() for _ in range(k)]
    before = rss()
    tasks = [loop.create_task(waiter(f)) for f in futs]
    await asyncio.sleep(0)
    per = (rss() - before) / k
    for f in futs:
        f.set_result(None)
    await asyncio.gather(*tasks)
    return per
print(f"python_memory_per_task\t{loop.run_until_complete(park(k)):.1f}\tbytes")
PY
}

py=none
command -v python3 >/dev/null && py=$(python3 -V 2>&1 | cut -d' ' -f2)
[ "$py" != none ] || echo "python3 не найден: строки CPython пропущены" >&2
raw=$DATA/coroutines-raw.tsv
{ machine_notes; printf 'rep\tname\tvalue\tunit\n'; } >"$raw.tmp"
trap 'rm -f "$raw.tmp"' EXIT
for rep in $(seq "$REPS"); do
  "${SRV[@]}" "$bin" "$n" | sed "s/^/$rep\t/" >>"$raw.tmp"
  [ "$py" = none ] || "${SRV[@]}" bash -c "$(declare -f python_part); python_part $((n / 10))" | sed "s/^/$rep\t/" >>"$raw.tmp"
  printf '\r%s/%s' "$rep" "$REPS" >&2
done
echo >&2
mv "$raw.tmp" "$raw"
summarize "$raw" 2 3 >build/bench/coroutines.med
val() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' build/bench/coroutines.med; }
spr() { awk -F'\t' -v k="$1" '$1 == k { print $3 }' build/bench/coroutines.med; }
g=$(val gen_resume_yield)
row() { # key, description
  local v; v=$(val "$1"); [ -n "$v" ] || return 0
  printf '%s\t%.1f\t%s\t%s\n' "$2" "$v" "$(spr "$1")" "$(awk -v a="$g" -v b="$v" 'BEGIN { printf "%.1f", b / a }')"
}
{ machine_notes
  echo "# нс на шаг: медиана $REPS повторений (C и Python по очереди, на ядре 1); шагов ${n} у генераторов, $((n / 20)) у задач"
  printf 'что\tнс на шаг\tразброс, %%\tк шагу генератора\n'
  row gen_resume_yield "генератор gen.h: gen_next + GEN_YIELD"
  row gen_send_yield "gen.h: gen_send + GEN_YIELD_CATCH"
  row gen_throw_caught_yield "gen.h: gen_throw, ошибка поймана"
  row gen_resume_yield_depth3 "gen.h через GEN_YIELD_FROM, глубина 3"
  row gen_resume_yield_depth10 "gen.h, глубина 10"
  row gen_resume_yield_depth100 "gen.h, глубина 100"
  row ucontext_round_trip "ucontext: swapcontext туда и обратно"
  row python_next "CPython $py: next(g)"
  row python_next_depth3 "CPython $py: next(g) через yield from, глубина 3"
  row aio_task_step "задача aio (гл. 9): шаг через цикл событий"
  row python_task_step "CPython $py asyncio: шаг задачи (await sleep(0))"
} >"$DATA/coroutines.tsv"
mrow() { local v; v=$(val "$1"); [ -z "$v" ] || printf '%s\t%.0f\n' "$2" "$v"; }
{ machine_notes
  echo "# байт: прирост резидентной памяти (RSS) на объект при 100 000 объектах, медиана $REPS повторений"
  printf 'что\tбайт\n'
  mrow gen_memory_per_suspended "приостановленный генератор gen.h (счётчик)"
  mrow gen_struct_size "   из них sizeof(gen) + кадр"
  mrow python_memory_per_suspended "приостановленный генератор CPython $py"
  mrow aio_memory_per_task "задача aio, ждущая свой Future (задача + кадр + Future)"
  mrow python_memory_per_task "задача asyncio CPython $py, ждущая свой Future"
  mrow ucontext_stack_per_coroutine "стек сопрограммы ucontext (выбран нами)"
  mrow gen_stack_per_link "стек C на звено цепочки GEN_YIELD_FROM"
} >"$DATA/coroutines-memory.tsv"

echo "Шаг корутины, нс (медиана $REPS повторений):"
grep -v '^#' "$DATA/coroutines.tsv" | column -t -s $'\t'
echo
echo "Память, байт:"
grep -v '^#' "$DATA/coroutines-memory.tsv" | column -t -s $'\t'
echo "Данные: $raw, $DATA/coroutines.tsv, $DATA/coroutines-memory.tsv"
