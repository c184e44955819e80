# Глава 9: print_nums и print_time на нашем цикле, секунда по трассе.
# Данные: ../data/trace-nums.json (tests/bench/traces.sh), через
# ../tools/trace2dat.pl. Терминал и выходной файл задаёт Makefile.
set encoding utf8
set termoption noenhanced
set title "nums --seconds 1: шаги задач и ожидание цикла (трасса прогона)"
set xlabel "миллисекунды от начала"
set yrange [3.7:-0.7]
set ytics ("цикл: select" 0, "main" 1, "print_nums" 2, "print_time" 3)
set xrange [-20:1040]
set grid xtics
set key bottom right
set style fill solid 0.8 border -1
w = 4      # шаг длится десятки микросекунд: рисуем его шириной 4 мс
data = "< perl ../tools/trace2dat.pl ../data/trace-nums.json --lanes '_body|loop'"
plot data index 0 using ($1 == 0 ? $2 : 1/0):1:2:3:($1-0.25):($1+0.25) \
       with boxxyerror lc rgb "#bbbbbb" title "цикл ждёт в select", \
     data index 0 using ($1 > 0 ? $2 : 1/0):1:2:($3-$2 < w ? $2+w : $3):($1-0.3):($1+0.3) \
       with boxxyerror lc rgb "#c0504d" title "шаг задачи"
