# Приложение «Измерения»: цена одного шага корутины, нс, логарифмическая
# шкала. Данные: ../data/coroutines.tsv (tests/bench/generators.sh).
# Терминал и выходной файл задаёт Makefile. Полосы лежат горизонтально:
# длинные подписи читаются, не повёрнутые набок.
set encoding utf8
set termoption noenhanced
set datafile separator "\t"
set style fill solid 0.85 border -1
set logscale x
set xrange [1:20000]
set yrange [11.7:0.3]
set xlabel "нс на шаг, медиана"
set grid xtics
set ytics scale 0 font ",9"
set lmargin 40
unset key
plot "../data/coroutines.tsv" using (1):0:(1):2:($0 - 0.35):($0 + 0.35):ytic(1) \
       with boxxyerrorbars lc rgb "#4f81bd", \
     "" using ($2 * 1.1):0:(sprintf(" %.0f", $2)) with labels left font ",9"
