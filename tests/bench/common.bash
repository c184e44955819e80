# tests/bench/common.bash — what every measurement of `make bench` shares
# (sourced, not run: the name does not end in .sh on purpose).
#   DATA           where the data files go (BENCH_DATA, default book/data)
#   machine_notes  "# …" lines: CPU, cores, kernel, date, pinning
#   SRV / CLI      command prefixes pinning the server and the client to
#                  different cores (taskset), empty on one core
#   free_port, wait_port PORT, stop PID
#   summarize RAW KEYCOLS VALCOL  → medians and spreads, see below
# Method (the appendix «Измерения» explains it): ours and the peers run in
# the same run, interleaved, REPS times; the book shows medians, the
# spread (max-min)/median, and ratios taken repetition by repetition.
source "$(dirname "${BASH_SOURCE[0]}")/../progs.bash"
DATA=${BENCH_DATA:-book/data}
REPS=${REPS:-5}   # repetitions of every comparison (the whole make bench: ~11 min on 2 cores)
mkdir -p "$DATA" build/bench

# More descriptors: the clients and the servers inherit the hard limit.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

SRV=() CLI=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SRV=(taskset -c 1) CLI=(taskset -c 0)
fi

machine_notes() {
  local cpu
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  echo "# машина: ${cpu:-?}, ядер: $(nproc), Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# средняя загрузка машины (loadavg за 1 мин) при записи файла: $(cut -d" " -f1 /proc/loadavg) — машина общая, поэтому сравнения чередуются"
  if [ ${#SRV[@]} -gt 0 ]; then
    echo "# сервер на ядре 1, клиент на ядре 0 (taskset); предел дескрипторов $(ulimit -Sn)"
  else
    echo "# без закрепления за ядрами (одно ядро или нет taskset); предел дескрипторов $(ulimit -Sn)"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

wait_port() { # $1 = port; up to 10 s
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

stop() { # $1 = pid: SIGTERM, then SIGKILL after 3 s
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# median and spread of column VAL grouped by columns KEYS of a raw TSV
# (header on the first line); prints "key…<TAB>median<TAB>spread%<TAB>n".
summarize() { # $1 = raw file, $2 = key columns "2,3", $3 = value column
  awk -F'\t' -v keys="$2" -v val="$3" '
    NR == 1 || /^#/ { next }
    { nk = split(keys, k, ","); key = $k[1]; for (i = 2; i <= nk; i++) key = key "\t" $k[i]
      if (!(key in n)) order[++m] = key
      v[key, ++n[key]] = $val + 0 }
    END { for (j = 1; j <= m; j++) { key = order[j]; c = n[key]
            for (a = 1; a <= c; a++) x[a] = v[key, a]
            for (a = 2; a <= c; a++) { t = x[a]; for (b = a - 1; b >= 1 && x[b] > t; b--) x[b + 1] = x[b]; x[b + 1] = t }
            med = c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
            printf "%s\t%g\t%.0f\t%d\n", key, med, med != 0 ? 100 * (x[c] - x[1]) / med : 0, c } }' "$1"
}

# The "Hello world!" servers: our chapters and the two peers, by key.
# The libuv peer is tests/bench/uv_peer.c (chapter 8's author), built here
# (libuv1-dev); without it or without python3 that column is skipped.
hello_servers() {
  local b
  echo blocking select
  for b in $("$(prog selectors-server)" --list-backends 2>/dev/null || echo "epoll poll select"); do echo "selectors-$b"; done
  echo generators async
  build_uv_peer && echo libuv
  if command -v python3 >/dev/null; then echo asyncio; else echo "python3 не найден: столбец asyncio пропущен" >&2; fi
}

server_label() { # key → the name the book shows
  case $1 in
    blocking) echo "блокирующий (гл. 2)" ;;
    select) echo "select (гл. 3)" ;;
    selectors-*) echo "selectors/${1#selectors-} (гл. 4)" ;;
    generators) echo "генераторы (гл. 5)" ;;
    async) echo "async (гл. 10)" ;;
    libuv) echo "libuv $(pkg-config --modversion libuv 2>/dev/null || echo 1)" ;;
    asyncio) echo "Python $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') asyncio" ;;
    *) echo "$1" ;;
  esac
}

build_uv_peer() { # build/bench/uv_peer from tests/bench/uv_peer.c; 1 without libuv
  if [ ! -x build/bench/uv_peer ] || [ tests/bench/uv_peer.c -nt build/bench/uv_peer ]; then
    ${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror tests/bench/uv_peer.c -luv -o build/bench/uv_peer \
      2>build/bench/uv_peer.log || { echo "libuv: не собрался (нужен libuv1-dev), столбец пропущен" >&2; return 1; }
  fi
}

start_server() { # $1 = key, $2 = port; sets PID, pinned to the server core
  local cmd
  case $1 in
    blocking) cmd=("$(prog blocking-server)") ;;
    select) cmd=("$(prog select-server)") ;;
    selectors-*) cmd=("$(prog selectors-server)" --backend "${1#selectors-}") ;;
    generators) cmd=("$(prog generators-server)") ;;
    async) cmd=("$(prog sockets-hello)") ;;
    libuv) cmd=(build/bench/uv_peer hello) ;;
    asyncio) cmd=(python3 tests/bench/peers/hello_asyncio.py --port) ;;
  esac
  [ "$1" = libuv ] || [ "$1" = asyncio ] || cmd+=(--port)
  "${SRV[@]}" "${cmd[@]}" "$2" >/dev/null 2>&1 &
  PID=$!
  wait_port "$2" || { echo "$1 не запустился на порту $2" >&2; stop "$PID"; return 1; }
}
