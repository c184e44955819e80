# Глава 11: время синхронного и асинхронного прогонов и ускорение с ростом N.
# Данные: ../data/images-speedup.tsv (tests/bench/downloads.sh; первая строка
# без # — заголовок столбцов). Терминал и выходной файл задаёт Makefile.
set encoding utf8
set datafile separator tab
set title "Выигрыш с ростом N (задержка 20 мс на ответ, картинки 320×240)"
set xlabel "N, картинок"
set ylabel "секунды"
set y2label "во сколько раз быстрее"
set logscale x
set logscale y
set y2tics
set ytics nomirror
set y2range [0:*]
set xrange [8:1250]
set grid
set key top left
plot "../data/images-speedup.tsv" skip 1 using 1:3 with linespoints lw 2 pt 7 lc rgb "#c0504d" title "sync, с", \
     "" skip 1 using 1:4 with linespoints lw 2 pt 7 lc rgb "#4f81bd" title "async, с", \
     "" skip 1 using 1:5 axes x1y2 with linespoints lw 2 pt 5 dt 2 lc rgb "#333333" title "ускорение (правая ось)"
