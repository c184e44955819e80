#!/usr/bin/env bash
# tests/bench/asyncio.sh — chapter 10's web app against peers serving the
# same page, with wrk, in the same run. Not a test: nothing is asserted.
#
#   BOOK_BIN=build/bin tests/bench/asyncio.sh      (REPS=5, DUR=2 seconds per run)
#
# Servers: sockets-webapp (ours), the same tiny HTTP server on libuv
# (tests/bench/uv_peer.c, built into build/bench/), nginx with one worker
# (Debian's nginx-light, started here on a loopback port with a temporary
# config), and chapter 1's blocking web app for scale. Each serves the index
# page; wrk (one thread, pinned to the other core) loads it with 10 and 100
# connections, keep-alive and "Connection: close". Servers rotate from one
# repetition to the next. The "Hello world!" comparison of chapter 10 with
# libuv and the callback server, and the connections held, are measured for
# every server by servers.sh and conns.sh.
# Data: $DATA/web-raw.tsv, web.tsv (median thousand requests/s),
# web-ratio.tsv (median of per-repetition ratios to nginx), web-cpu.tsv
# (server CPU time per request).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.bash
DUR=${DUR:-2}
command -v wrk >/dev/null || { echo "wrk не найден (apt-get install wrk): веб-сравнение пропущено" >&2; exit 0; }
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && stop "$PID"; rm -rf "$TMP"' EXIT

# The page as our web app serves it: the others serve the same bytes.
port=$(free_port)
start_web() { # $1 = key, $2 = port; sets PID
  local cmd
  case $1 in
    webapp) cmd=("$(prog sockets-webapp)" --port "$2") ;;
    webapp-blocking) cmd=("$(prog web-app-main)" --port "$2") ;;
    libuv) cmd=(build/bench/uv_peer web "$2" "$TMP/index.html") ;;
    nginx) sed "s/@PORT@/$2/" "$TMP/nginx/nginx.conf.in" >"$TMP/nginx/nginx.conf"
           cmd=("$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf") ;;
  esac
  "${SRV[@]}" "${cmd[@]}" >"$TMP/$1.log" 2>&1 &
  PID=$!
  wait_port "$2" || { echo "$1 не запустился" >&2; cat "$TMP/$1.log" >&2; stop "$PID"; PID=; return 1; }
}
start_web webapp "$port"
curl -s "http://127.0.0.1:$port/" >"$TMP/index.html"
stop "$PID"; PID=

servers=(webapp)
build_uv_peer && servers+=(libuv)
if [ -n "$NGINX" ]; then
  servers+=(nginx)
  mkdir -p "$TMP/nginx/root" "$TMP/nginx/tmp" "$TMP/nginx/logs"
  cp "$TMP/index.html" "$TMP/nginx/root/index.html"
  cat >"$TMP/nginx/nginx.conf.in" <<CONF
worker_processes 1;
master_process off;
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
    listen 127.0.0.1:@PORT@;
    root $TMP/nginx/root;
    default_type "text/html; charset=utf-8";
  }
}
CONF
else
  echo "nginx не найден (apt-get install nginx-light): столбец пропущен" >&2
fi
servers+=(webapp-blocking)

label() {
  case $1 in
    webapp) echo "веб-приложение async (гл. 10)" ;;
    webapp-blocking) echo "блокирующее веб-приложение (гл. 1)" ;;
    libuv) echo "libuv $(pkg-config --modversion libuv 2>/dev/null || echo 1), тот же HTTP" ;;
    nginx) echo "nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), 1 рабочий процесс" ;;
  esac
}

# The server's CPU time (user + system, clock ticks) from /proc/PID/stat:
# divided by the requests wrk made, it is the price of one request, which
# the client's ceiling and the neighbours on the machine disturb much less
# than requests per second.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo -1; }

raw=$DATA/web-raw.tsv
{ machine_notes
  echo "# wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), 1 поток, $DUR с на прогон, повторений $REPS"
  printf 'rep\tserver\tmode\tconnections\treq_per_s\terrors\tserver_cpu_us_per_req\n'
} >"$raw.tmp"
ns=${#servers[@]}
for rep in $(seq "$REPS"); do
  for mode in keep-alive close; do
    hdr=(); [ "$mode" = close ] && hdr=(-H "Connection: close")
    for c in 10 100; do
      for i in $(seq 0 $((ns - 1))); do
        key=${servers[$(((i + rep) % ns))]}
        port=$(free_port)
        start_web "$key" "$port"
        t0=$(cpu_ticks "$PID")
        out=$(timeout $((DUR + 20)) "${CLI[@]}" wrk -t1 -c"$c" -d"${DUR}s" "${hdr[@]}" "http://127.0.0.1:$port/" 2>&1 || true)
        t1=$(cpu_ticks "$PID")
        stop "$PID"; PID=
        rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
        nreq=$(awk '/requests in/ { print $1 }' <<<"$out")
        cpu=$(awk -v a="$t0" -v b="$t1" -v n="${nreq:-0}" -v hz="$HZ" 'BEGIN { if (n > 0 && a >= 0) printf "%.2f", (b - a) / hz * 1e6 / n; else print -1 }')
        err=$(awk '/Socket errors/ { gsub(",", ""); s += $4 + $6 + $8 + $10 } /Non-2xx/ { s += $NF } END { print s + 0 }' <<<"$out")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$key" "$mode" "$c" "${rps:-0}" "$err" "$cpu" >>"$raw.tmp"
        printf '\r%s/%s %-16s %-10s c=%-4s %s req/s   ' "$rep" "$REPS" "$key" "$mode" "$c" "${rps:-0}" >&2
      done
    done
  done
done
echo >&2
mv "$raw.tmp" "$raw"

COLS=(keep-alive:10 keep-alive:100 close:10 close:100)
table() { # $1 = "server<TAB>mode<TAB>conns<TAB>value" file
  printf 'сервер\tkeep-alive, 10\tkeep-alive, 100\tclose, 10\tclose, 100\n'
  for key in "${servers[@]}"; do
    printf '%s' "$(label "$key")"
    for col in "${COLS[@]}"; do
      v=$(awk -F'\t' -v s="$key" -v m="${col%%:*}" -v c="${col#*:}" '$1 == s && $2 == m && $3 == c { print $4 }' "$1")
      printf '\t%s' "${v:-—}"
    done
    printf '\n'
  done
}
summarize "$raw" 2,3,4 5 | awk -F'\t' '{ printf "%s\t%s\t%s\t%.1f\n", $1, $2, $3, $4 / 1000 }' >build/bench/web.k
spread=$(summarize "$raw" 2,3,4 5 | awk -F'\t' '{ if ($5 > s) s = $5 } END { print s + 0 }')
{ machine_notes
  echo "# wrk, 1 поток; тысяч запросов в секунду, медиана $REPS повторений; наибольший разброс (макс − мин)/медиана: $spread %"
  table build/bench/web.k
} >"$DATA/web.tsv"
if [ -n "$NGINX" ]; then
  awk -F'\t' 'NR > 1 && !/^#/ { if ($2 == "nginx") b[$1, $3, $4] = $5; r[NR] = $0 }
    END { for (i in r) { split(r[i], f, "\t"); x = b[f[1], f[3], f[4]]
            if (x > 0) printf "%s\t%s\t%s\t%s\t%s\n", f[1], f[2], f[3], f[4], f[5] / x } }' "$raw" |
    sort -n | { printf 'rep\tserver\tmode\tconns\tratio\n'; cat; } >build/bench/web-ratio.raw
  summarize build/bench/web-ratio.raw 2,3,4 5 | awk -F'\t' '{ printf "%s\t%s\t%s\t%.2f\n", $1, $2, $3, $4 }' >build/bench/web-ratio.k
  { machine_notes
    echo "# отношение к nginx (1 рабочий процесс) в том же повторении, медиана отношений"
    table build/bench/web-ratio.k
  } >"$DATA/web-ratio.tsv"
fi
summarize "$raw" 2,3,4 7 | awk -F'\t' '{ printf "%s\t%s\t%s\t%.1f\n", $1, $2, $3, $4 }' >build/bench/web-cpu.k
{ machine_notes
  echo "# процессорное время сервера (user + system) на один запрос, мкс, медиана $REPS повторений"
  table build/bench/web-cpu.k
} >"$DATA/web-cpu.tsv"
echo "Веб-приложение, тысяч запросов/с (wrk, медиана $REPS):"
grep -v '^#' "$DATA/web.tsv" | column -t -s $'\t'
if [ -n "$NGINX" ]; then
  echo; echo "Отношение к nginx:"; grep -v '^#' "$DATA/web-ratio.tsv" | column -t -s $'\t'
fi
echo; echo "Процессорное время сервера на запрос, мкс:"; grep -v '^#' "$DATA/web-cpu.tsv" | column -t -s $'\t'
echo "Данные: $raw, $DATA/web.tsv, $DATA/web-cpu.tsv${NGINX:+, $DATA/web-ratio.tsv}"
