# Глава 10: один запрос к веб-приложению по трассе: accept, recv,
# маршрут, sendall. Данные: ../data/trace-webapp.json (tests/bench/traces.sh),
# через ../tools/trace2dat.pl; время -- от accept. В этом прогоне fd 7 --
# слушающий сокет, fd 8 -- сокет клиента. Терминал задаёт Makefile.
set encoding utf8
set termoption noenhanced
set title "Один запрос к веб-приложению (трасса прогона)"
set xlabel "микросекунды от accept"
set yrange [4.7:-0.8]
set ytics ("fd 7: чтение" 0, "цикл" 1, "conn_body" 2, "fd 8: чтение" 3, "fd 8: запись" 4)
set xrange [-20:820]
set grid xtics
unset key
set style fill solid 0.8 border -1
data = "< perl ../tools/trace2dat.pl ../data/trace-webapp.json --from accept --window 0:0.9 --lanes '^(loop|conn_body|fd [78] (read|write))$'"
plot data index 0 using ($2*1000):1:($2*1000):($3*1000):($1-0.25):($1+0.25) \
       with boxxyerror lc rgb "#bbbbbb", \
     data index 0 using (strcol(5) eq "conn_body" ? $2*1000 : 1/0):1:($2*1000):($3*1000):($1-0.3):($1+0.3) \
       with boxxyerror lc rgb "#4f81bd", \
     data index 0 using (strcol(5) eq "route" ? $2*1000 : 1/0):1:($2*1000):($3*1000):($1-0.3):($1+0.3) \
       with boxxyerror lc rgb "#c0504d", \
     data index 0 using (strcol(5) eq "route" ? $2*1000 : 1/0):($1+0.62):("route") with labels, \
     data index 1 using (strstrt("accept recv sendall", strcol(4)) > 0 ? $2*1000 : 1/0):1 with points pt 7 ps 0.8 lc rgb "black", \
     data index 1 using (strstrt("accept recv sendall", strcol(4)) > 0 ? $2*1000 : 1/0):($1-0.5):4 with labels
