#!/usr/bin/env bash
# Every text of the PDF — figures included, at the size they are printed —
# is at least 7 pt. pdftohtml reports the size of each font as set on the
# page (zoom 3: three units a point), after the figure has been scaled to
# the page; rotated labels count at their vertical size, which errs on the
# safe side.
set -euo pipefail
cd "$(dirname "$0")/.."
pdf=build/book.pdf
[ -s "$pdf" ] || { echo "нет $pdf: сначала make pdf"; exit 1; }
pdftohtml -xml -i -stdout -zoom 3 "$pdf" 2>/dev/null | perl -ne '
  BEGIN { $min = 1e9 }
  $page = $1 if /<page number="(\d+)"/;
  $size{$1} = $2 if /<fontspec id="(\d+)" size="(\d+)"/;
  if (/<text [^>]*font="(\d+)"[^>]*>(.*)<\/text>/) {
    my ($s, $t) = ($size{$1} / 3, $2);
    $t =~ s/<[^>]*>//g;
    $min = $s if $s < $min;
    $small{$page} .= sprintf("%s (%.1f pt) ", $t, $s) if $s < 7 && length($small{$page} // "") < 200;
  }
  END {
    printf "самый мелкий текст книги: %.1f pt (не меньше 7)\n", $min;
    print "с. $_: $small{$_}\n" for sort { $a <=> $b } keys %small;
    exit(%small ? 1 : 0);
  }'
