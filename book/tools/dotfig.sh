#!/usr/bin/env bash
# dotfig.sh pdf|svg IN.dot OUT — draws a graphviz figure of the book so that
# its text is legible where the book puts it.
#
# The PDF scales a figure down to fit (18,4 cm wide: the text block and 1 cm
# of each margin; 0,9 of the page high — header.tex), so a wide drawing would
# print its 10-point labels at 4 points. Two global rules, for every figure:
#   - the PDF's labels are set in DejaVu Sans Condensed (the same letters,
#     narrower); the HTML's SVG keeps DejaVu Sans, which readers more often have;
#   - a figure laid out left to right (rankdir=LR) is also laid out top to
#     bottom, and the layout whose smallest text prints larger wins.
# tests/check-figures.sh checks the result: no text under 7 pt on paper.
set -euo pipefail
fmt=$1 in=$2 out=$3
TW=521 TH=650   # points: the widest a figure may print (the text block and 1 cm
                # into each margin) and the height it may take (header.tex)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

condensed='
  BEG_G { if (aget($G, "fontname") == "" || aget($G, "fontname") == "DejaVu Sans") aset($G, "fontname", "DejaVu Sans Condensed"); }
  N     { if (aget($, "fontname") == "" || aget($, "fontname") == "DejaVu Sans") aset($, "fontname", "DejaVu Sans Condensed"); }
  E     { if (aget($, "fontname") == "" || aget($, "fontname") == "DejaVu Sans") aset($, "fontname", "DejaVu Sans Condensed"); }'
gv() { gvpr -c "$1" "$2" 2> >(grep -v 'uninitialized attribute' >&2); }

# the smallest text of a drawing in print, in points (cairo's word boxes are
# 1.164 of the font size for DejaVu), times 100
printed() { # $1 = pdf
  local size w h
  size=$(pdfinfo "$1" | sed -n 's/^Page size: *\([0-9.]*\) x \([0-9.]*\).*/\1 \2/p')
  read -r w h <<<"$size"
  pdftotext -bbox "$1" - | perl -ne '
    BEGIN { ($w, $h, $tw, $th) = @ARGV; @ARGV = ();
            $s = 1; $s = $tw / $w if $tw / $w < $s; $s = $th / $h if $th / $h < $s; $min = 1e9; }
    $min = $4 - $2 if /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"/ && $4 - $2 < $min;
    END { printf "%d\n", $min / 1.164 * $s * 100 }' "$w" "$h" "$TW" "$TH"
}

gv "$condensed" "$in" >"$tmp/as-is.dot"
cp "$in" "$tmp/as-is-plain.dot"
best=as-is
dot -Tpdf "$tmp/as-is.dot" -o "$tmp/as-is.pdf"
if grep -qE 'rankdir *= *"?(LR|RL)' "$in"; then
  gv 'BEG_G { aset($G, "rankdir", "TB"); }' "$in" >"$tmp/tb-plain.dot"
  gv "$condensed" "$tmp/tb-plain.dot" >"$tmp/tb.dot"
  dot -Tpdf "$tmp/tb.dot" -o "$tmp/tb.pdf"
  [ "$(printed "$tmp/tb.pdf")" -le "$(printed "$tmp/as-is.pdf")" ] || best=tb
fi
case "$fmt" in
  pdf) cp "$tmp/$best.pdf" "$out" ;;
  svg) dot -Tsvg "$tmp/$best-plain.dot" -o "$out" ;;
  *) echo "usage: $0 pdf|svg IN.dot OUT" >&2; exit 2 ;;
esac
