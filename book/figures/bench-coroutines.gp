# Приложение «Измерения»: цена одного шага корутины, нс, логарифмическая
# шкала. Данные: ../data/coroutines.tsv (tests/bench/generators.sh).
# Терминал и выходной файл задаёт Makefile.
set encoding utf8
set datafile separator "\t"
set style fill solid 0.85 border -1
set boxwidth 0.7
set logscale y
set yrange [1:*]
set ylabel "нс на шаг (медиана, логарифмическая шкала)"
set grid ytics
set xtics rotate by -30 left scale 0 font ",8"
set bmargin 11
set rmargin 12
unset key
plot "../data/coroutines.tsv" every ::1 using 0:2:xtic(1) with boxes lc rgb "#4f81bd", \
     "" every ::1 using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.7 font ",8"
