# Глава 5: карусель двух генераторов по трассе настоящего прогона.
# Данные: ../data/trace-roundrobin.json (tests/bench/traces.sh), через
# ../tools/trace2dat.pl. Терминал и выходной файл задаёт Makefile.
set encoding utf8
set termoption noenhanced
set title "Карусель: шаги генераторов (трасса прогона)"
set xlabel "микросекунды от первого шага"
set yrange [1.7:-0.7]
set ytics ("letters" 0, "numbers" 1)
set grid xtics
unset key
set style fill solid 0.8 border -1
w = 0.3    # шаг короче 0,3 мкс рисуем шириной 0,3 мкс, чтобы его было видно
plot "< perl ../tools/trace2dat.pl ../data/trace-roundrobin.json" index 0 \
       using ($2*1000):1:($2*1000):(($3-$2)*1000 < w ? $2*1000+w : $3*1000):($1-0.3):($1+0.3) \
       with boxxyerror lc rgb "#4f81bd"
