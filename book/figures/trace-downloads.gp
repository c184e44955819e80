# Глава 11: восемь загрузок одна за другой и все сразу, дорожка на
# передачу, по трассам настоящих прогонов (сервер главы 11, задержка
# 100 мс без разброса). Данные: ../data/trace-dl-sync.json и
# ../data/trace-dl-async.json (tests/bench/traces.sh) через
# ../tools/trace2dat.pl. Терминал задаёт Makefile.
set encoding utf8
set termoption noenhanced
set title "Восемь загрузок: лестница и веер (трассы прогонов)"
set xlabel "секунды от начала прогона"
set yrange [17:-1]
set ytics ("sync 1" 0, "sync 8" 7, "async 1" 9, "async 8" 16)
set grid xtics
set key bottom right
set style fill solid 0.8 border -1
plot "< perl ../tools/trace2dat.pl ../data/trace-dl-sync.json --lanes '^transfer$'" index 0 \
       using (($2+$3)/2000):1:($2/1000):($3/1000):($1-0.35):($1+0.35) \
       with boxxyerror lc rgb "#c0504d" title "sync: libcurl easy", \
     "< perl ../tools/trace2dat.pl ../data/trace-dl-async.json --lanes '^transfer$'" index 0 \
       using (($2+$3)/2000):($1+9):($2/1000):($3/1000):($1+9-0.35):($1+9+0.35) \
       with boxxyerror lc rgb "#4f81bd" title "async: lib/fetch на нашем цикле"
