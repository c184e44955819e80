# Глава 11: временная диаграмма десяти загрузок, синхронно и асинхронно.
# Данные: ../data/images-timeline.dat (ряд, начало, конец, имя файла).
# Терминал и выходной файл задаёт Makefile (SVG для HTML, PDF для PDF).
set encoding utf8
set title "Десять картинок: одна за другой и все сразу (задержка 250±50 мс на ответ)"
set xlabel "секунды от начала прогона"
set yrange [-1:21]
set ytics ("sync 0" 0, "sync 9" 9, "async 0" 11, "async 9" 20)
set xrange [0:5.2]
set grid xtics
set key top right
set style fill solid 0.8 border -1
plot "../data/images-timeline.dat" index 0 using (($2+$3)/2):1:2:3:($1-0.35):($1+0.35) \
       with boxxyerror lc rgb "#c0504d" title "sync: libcurl easy", \
     "" index 1 using (($2+$3)/2):($1+11):2:3:($1+11-0.35):($1+11+0.35) \
       with boxxyerror lc rgb "#4f81bd" title "async: libcurl multi на нашем цикле"
