# Графики главы 9 из измеренных данных (images-timeline.dat, images-speedup.tsv).
# Запуск из book/figures:  gnuplot images.gp
# Результат: images-timeline.svg/.pdf и images-speedup.svg/.pdf (они в git).
set encoding utf8

do for [fmt in "svg pdf"] {
  if (fmt eq "svg") { set terminal svg size 720,360 font "DejaVu Sans,12" background "white" }
  else { set terminal pdfcairo size 5.2in,2.6in font "DejaVu Sans,9" }

  set output "images-timeline." . fmt
  set title "Десять картинок: одна за другой и все сразу (задержка 250±50 мс на ответ)"
  set xlabel "секунды от начала прогона"
  set ylabel ""
  set yrange [-1:21]
  set ytics ("sync 0" 0, "sync 9" 9, "async 0" 11, "async 9" 20)
  set xrange [0:5.2]
  set grid xtics
  set key top right
  set style fill solid 0.8 border -1
  plot "images-timeline.dat" index 0 using (($2+$3)/2):1:2:3:($1-0.35):($1+0.35) \
         with boxxyerror lc rgb "#c0504d" title "sync: libcurl easy", \
       "" index 1 using (($2+$3)/2):($1+11):2:3:($1+11-0.35):($1+11+0.35) \
         with boxxyerror lc rgb "#4f81bd" title "async: libcurl multi на нашем цикле"
  unset yrange; unset xrange; unset ytics; set ytics; unset grid

  set output "images-speedup." . fmt
  set title "Выигрыш с ростом N (задержка 20 мс на ответ, картинки 320×240)"
  set xlabel "N, картинок"
  set ylabel "секунды"
  set y2label "во сколько раз быстрее"
  set logscale x
  set logscale y
  set y2tics
  set ytics nomirror
  set y2range [0:45]
  set xrange [8:1250]
  set grid
  set key top left
  plot "images-speedup.tsv" using 1:3 with linespoints lw 2 pt 7 lc rgb "#c0504d" title "sync, с", \
       "" using 1:4 with linespoints lw 2 pt 7 lc rgb "#4f81bd" title "async, с", \
       "" using 1:5 axes x1y2 with linespoints lw 2 pt 5 dt 2 lc rgb "#333333" title "ускорение (правая ось)"
  unset logscale; unset y2tics; unset y2label; unset y2range; unset xrange; unset grid
}
