#!/usr/bin/env bash
# The woven book is whole: every internal link of the HTML has its anchor,
# every chunk use inside code is a link to its definition (in the HTML and in
# the PDF's LaTeX), no use points to an undefined chunk, the PDF was set
# without a single dropped glyph, has its title page and metadata, and its
# figures and tables bear the same numbers as in the HTML.
set -euo pipefail
cd "$(dirname "$0")/.."
html=build/book.html tex=build/latex/book.tex md=build/book.md
for f in $html $tex $md build/book.pdf build/latex/book.log; do
  [ -s "$f" ] || { echo "нет $f: сначала make book"; exit 1; }
done
fail=0

perl -CSD -Mutf8 -ne '
  $ids{$1} = 1 while /\bid="([^"]+)"/g;
  push @refs, $1 while /href="#([^"]+)"/g;
  END {
    my @bad = grep { !$ids{$_} } @refs;
    print "HTML: ссылка на несуществующий якорь #$_\n" for @bad;
    printf "HTML: %d внутренних ссылок, все ведут к якорям\n", scalar @refs unless @bad;
    exit(@bad ? 1 : 0);
  }' "$html" || fail=1

# chunk labels N.M must sit in chapter N: one level-1 heading per chapter
# file, and the number in the file's name is the one pandoc gives it
# (appendix А's chunks are anchored nw-A-M and sit in «Приложение А»)
perl -CSD -Mutf8 -ne '
  if (/<h1 (?:class="unnumbered"|(?:class="appendix" )?data-number="([^"]+)")/) {
    $ch = $1 // 0; $ch =~ tr/АБВГДЕ/ABCDEF/;
  }
  while (/\bid="nw-([0-9A-Z]+)-(\d+)"/g) {
    next if $1 eq $ch;
    print "HTML: фрагмент $1.$2 оказался в главе $ch: в главе не один заголовок #?\n"; $bad = 1;
  }
  END { exit($bad ? 1 : 0) }' "$html" || fail=1

# uses written by nw2md.pl: ⟨name N.M⟩ inside code blocks of book.md
uses=$(perl -CSD -Mutf8 -ne '$in = !$in if /^~~~~~~~/; $n++ while $in && /⟨[^⟨⟩]*\s(?:\d+|[А-Я]):\d+⟩/g; END { print $n // 0 }' "$md")
html_links=$(grep -o 'class="nwref" href="#nw-[0-9A-Z]*-[0-9]*"' "$html" | wc -l)
tex_links=$(grep -o '\\nwlink{[0-9A-Z]*}{[0-9]*}{\\NormalTok{⟨' "$tex" | wc -l)
echo "употреблений фрагментов в коде: $uses; ссылок в HTML: $html_links; в LaTeX: $tex_links"
[ "$uses" -eq "$html_links" ] || { echo "HTML: не каждое употребление фрагмента стало ссылкой"; fail=1; }
[ "$uses" -eq "$tex_links" ] || { echo "PDF: не каждое употребление фрагмента стало ссылкой"; fail=1; }
if grep -n '??⟩' "$md"; then echo "употребление неопределённого фрагмента"; fail=1; fi
if grep -n 'Missing character' build/latex/book.log; then echo "PDF: XeLaTeX выбросил глифы"; fail=1; fi
pages=$(pdfinfo build/book.pdf | sed -n 's/^Pages: *//p')
echo "PDF: $pages страниц"
pdftotext build/book.pdf build/book.txt; grep -q 'Асинхронность с нуля на C' build/book.txt || { echo "PDF: нет заглавия в тексте"; fail=1; }

# the title page and the PDF's metadata: title, author, version
info=$(pdfinfo build/book.pdf)
for field in Title Author Subject; do
  echo "$info" | grep -q "^$field: *[^ ]" || { echo "PDF: в метаданных нет поля $field"; fail=1; }
done
head -c 3000 build/book.txt | grep -q 'Версия ' || { echo "PDF: на титуле нет версии"; fail=1; }

# figures and tables are numbered alike in the PDF (LaTeX counts them) and
# in the HTML (the weave writes the numbers); floats may move in the PDF,
# so the lists are compared sorted
pdf_nums=$(perl -CSD -Mutf8 -ne 'print "$1 $2\n" while /(?<!\S)(Рис\.|Таблица)[ \x{a0}]([0-9А-Я]+(?:\.[0-9]+)?\.)/g' build/book.txt | sort | tr '\n' ' ')
html_nums=$(perl -CSD -Mutf8 -ne 'print "$1 $2\n" while /class="(?:fignum|tabnum)">(Рис\.|Таблица)[ \x{a0}]([0-9А-Я]+(?:\.[0-9]+)?\.)/g' "$html" | sort | tr '\n' ' ')
if [ "$pdf_nums" != "$html_nums" ]; then
  echo "номера рисунков и таблиц расходятся:"; echo "  PDF:  $pdf_nums"; echo "  HTML: $html_nums"; fail=1
else
  echo "рисунков и таблиц с номерами: $(echo "$pdf_nums" | wc -w | awk '{print $1 / 2}'), номера в PDF и HTML совпадают"
fi

# chunk labels never look like section numbers: N:M, not N.M
if perl -CSD -Mutf8 -ne '$bad = 1 if /\[\*\*[0-9А-Я]+\.[0-9]+\*\*\]\{#nw-/; END { exit !$bad }' "$md"; then
  echo "метки фрагментов вида N.M путаются с номерами разделов"; fail=1
fi
exit $fail
