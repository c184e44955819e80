#!/usr/bin/env bash
# tests/bench/asyncio.sh — chapter 8 against peers on the same load, in the
# same run. Not a test: nothing is asserted, numbers depend on the machine.
#
#   BOOK_BIN=build/bin tests/bench/asyncio.sh
#
# 1. "Hello world!" servers: 08-asyncio-server against the same server on
#    libuv (tests/bench/uv_peer.c, compiled here into build/bench/; needs
#    Debian's libuv1-dev) and the callback server of chapter 4, driven by
#    tests/bench/loadgen.c (chapters 3-4): N clients at once, round trips.
# 2. The web app: 08-asyncio-webapp against uv_peer web and nginx (Debian's
#    nginx-light, started here on a loopback port with a temporary config)
#    serving the same page, driven by wrk (or ab) with keep-alive.
# 3. The most idle connections held on one thread by 08-asyncio-server and
#    the memory (RSS) per connection.
# Peers that are not installed are skipped with a note.
# Raw data: build/bench/asyncio.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BOOK_BIN:-build/bin}
DUR=${DUR:-5}            # seconds per wrk run
HELD=${HELD:-10000}      # idle connections for the memory scenario
OUT=build/bench
TSV=$OUT/asyncio.tsv
mkdir -p "$OUT"
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/loadgen" tests/bench/loadgen.c
have_uv=0
if cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/uv_peer" tests/bench/uv_peer.c -luv 2>"$OUT/uv_peer.log"; then
  have_uv=1
else
  echo "note: libuv peer skipped (apt-get install libuv1-dev): $(head -1 "$OUT/uv_peer.log")"
fi
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}
wait_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}
PIDS=()
TMP=$(mktemp -d)
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
start() { # $1 = port, rest = command; sets SPID
  "${@:2}" >"$TMP/server.$1.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  wait_port "$1"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

printf 'bench\tserver\tparam\tvalue\tunit\n' >"$TSV"

echo "== 1. Hello world: loadgen, round trips per second (higher is better)"
printf '%-28s %8s %10s %12s\n' server clients at_once req/s
declare -A HELLO=([ours:08-asyncio-server]="$BIN/08-asyncio-server --port")
HELLO_ORDER=(ours:08-asyncio-server)
if [ -x "$BIN/04-selectors-server" ]; then
  HELLO[callbacks:04-selectors-server]="$BIN/04-selectors-server --port"
  HELLO_ORDER+=(callbacks:04-selectors-server)
fi
if [ $have_uv = 1 ]; then
  HELLO[peer:libuv]="$OUT/uv_peer hello"
  HELLO_ORDER+=(peer:libuv)
fi
for name in "${HELLO_ORDER[@]}"; do
  for n in 100 1000; do
    port=$(free_port)
    # shellcheck disable=SC2086
    start "$port" ${HELLO[$name]} "$port"
    line=$(timeout 60 "$OUT/loadgen" "$port" "$n" 200 3000 || echo "$n 0 0 0 0 0")
    stop "$SPID"
    read -r _ at_once _ _ _ rps <<<"$line"
    printf '%-28s %8s %10s %12s\n' "$name" "$n" "$at_once" "$rps"
    printf 'hello\t%s\t%s\t%s\treq/s\n' "$name" "$n" "$rps" >>"$TSV"
  done
done

echo
echo "== 2. The web app: keep-alive requests per second (higher is better)"
PAGE="$TMP/index.html"
port=$(free_port)
start "$port" "$BIN/08-asyncio-webapp" --port "$port"
curl -s "http://127.0.0.1:$port/" >"$PAGE"
stop "$SPID"
load() { # $1 = port, $2 = path; prints req/s
  if command -v wrk >/dev/null; then
    wrk -t2 -c100 -d"${DUR}s" "http://127.0.0.1:$1$2" 2>&1 | awk '/Requests\/sec/ {print $2}'
  else
    ab -q -k -n 50000 -c 100 "http://127.0.0.1:$1$2" 2>&1 | awk '/Requests per second/ {print $4}'
  fi
}
printf '%-28s %12s\n' server req/s
port=$(free_port); start "$port" "$BIN/08-asyncio-webapp" --port "$port"
r=$(load "$port" /); stop "$SPID"
printf '%-28s %12s\n' ours:08-asyncio-webapp "$r"; printf 'web\tours\t/\t%s\treq/s\n' "$r" >>"$TSV"
if [ $have_uv = 1 ]; then
  port=$(free_port); start "$port" "$OUT/uv_peer" web "$port" "$PAGE"
  r=$(load "$port" /); stop "$SPID"
  printf '%-28s %12s\n' peer:libuv "$r"; printf 'web\tlibuv\t/\t%s\treq/s\n' "$r" >>"$TSV"
fi
if [ -n "$NGINX" ]; then
  port=$(free_port)
  mkdir -p "$TMP/nginx/root" "$TMP/nginx/tmp"
  cp "$PAGE" "$TMP/nginx/root/index.html"
  cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp;
  proxy_temp_path $TMP/nginx/tmp;
  fastcgi_temp_path $TMP/nginx/tmp;
  uwsgi_temp_path $TMP/nginx/tmp;
  scgi_temp_path $TMP/nginx/tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    root $TMP/nginx/root;
    default_type "text/html; charset=utf-8";
  }
}
CONF
  start "$port" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"
  r=$(load "$port" /); stop "$SPID"
  printf '%-28s %12s\n' "peer:nginx (1 worker)" "$r"; printf 'web\tnginx\t/\t%s\treq/s\n' "$r" >>"$TSV"
else
  echo "note: nginx skipped (apt-get install nginx-light)"
fi

echo
echo "== 3. Idle connections held by one thread, memory per connection"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
port=$(free_port); start "$port" "$BIN/08-asyncio-server" --port "$port"
before=$(rss_kb "$SPID")
line=$(timeout 120 "$OUT/loadgen" "$port" 1 1 2000 "$HELD" &
       sleep 3; rss_kb "$SPID" >"$TMP/rss"; wait) || true
after=$(cat "$TMP/rss" 2>/dev/null || echo "$before")
held=$(ls "/proc/$SPID/fd" 2>/dev/null | wc -l || echo 0)
stop "$SPID"
per=$(( (after - before) * 1024 / (HELD > 0 ? HELD : 1) ))
printf '%-28s %10s %12s %14s\n' server idle_conns rss_delta_kB bytes/conn
printf '%-28s %10s %12s %14s\n' ours:08-asyncio-server "$HELD" "$((after - before))" "$per"
printf 'held\tours\t%s\t%s\tbytes/conn\n' "$HELD" "$per" >>"$TSV"
echo
echo "raw data: $TSV"
