# Приложение «Измерения»: ответов в секунду у серверов «Hello world!» при
# 10, 100 и 1000 клиентов. Данные: ../data/servers.tsv (tests/bench/servers.sh;
# строки с # — описание машины, первая строка без # — заголовок). Терминал и
# выходной файл задаёт Makefile.
set encoding utf8
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right title "клиентов"
set ylabel "тысяч ответов в секунду (медиана)"
set yrange [0:*]
set grid ytics
set xtics rotate by -30 left scale 0 font ",9"
set bmargin 7
set rmargin 9
plot "../data/servers.tsv" every ::1 using 3:xtic(1) title "10" lc rgb "#9bbb59", \
     "" every ::1 using 4 title "100" lc rgb "#4f81bd", \
     "" every ::1 using 5 title "1000" lc rgb "#1f3f6d"
