# Приложение «Измерения»: сколько соединений из K удержал каждый сервер
# (логарифмическая шкала: видна ступенька FD_SETSIZE). Данные:
# ../data/conns.tsv (tests/bench/conns.sh). Терминал и выходной файл задаёт
# Makefile.
set encoding utf8
set datafile separator "\t"
set datafile missing "—"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.8:200000]
set key top left title "K соединений" horizontal
set ylabel "удержано соединений (лог. шкала)"
set grid ytics
set xtics rotate by -30 left scale 0 font ",9"
set bmargin 7
set rmargin 9
plot "../data/conns.tsv" every ::1 using 2:xtic(1) title "1000" lc rgb "#9bbb59", \
     "" every ::1 using 3 title "2000" lc rgb "#4f81bd", \
     "" every ::1 using 4 title "5000" lc rgb "#1f3f6d", \
     "" every ::1 using 5 title "10000" lc rgb "#c0504d"
