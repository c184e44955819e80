# Приложение «Измерения»: процессорное время сервера на один ответ при 100
# активных клиентах и при 10 активных среди 900 молчащих. Данные:
# ../data/servers-cpu.tsv (tests/bench/servers.sh). Терминал и выходной файл
# задаёт Makefile.
set encoding utf8
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set ylabel "мкс процессора сервера на ответ (медиана)"
set yrange [0:*]
set grid ytics
set xtics rotate by -30 left scale 0 font ",9"
set bmargin 7
set rmargin 9
plot "../data/servers-cpu.tsv" every ::1 using ($4 > 0 ? $4 : 0):xtic(1) title "100 активных" lc rgb "#4f81bd", \
     "" every ::1 using ($6 > 0 ? $6 : 0) title "10 активных + 900 молчащих" lc rgb "#c0504d"
