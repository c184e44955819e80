#!/usr/bin/perl
# nw2md.pl — the weave filter: noweb's markup stream (markup book/*.nw) in,
# Pandoc Markdown out.
#
# Each code chunk becomes a titled, anchored block:
#
#   3:7 ⟨Принять подключение⟩+≡            3:7 is this chunk's label: chapter 3,
#   ~~~ {.c}                               its 7th chunk (a colon, so that it is
#   … ⟨Другой фрагмент 3:5⟩ …              never read as section 3.7)
#   ~~~
#   Используется в 3:1 · ← пред. 3:4 · продолжение → 3:9 · Определяет: x
#
# A chunk use inside code stays a plain ⟨name label⟩ token; linkify.pl turns
# it into a link after pandoc has highlighted the code.
#
# Prose is Markdown already; the filter adds to it:
#   - Russian typography: a non-breaking space after one-letter words, before
#     an em dash, between a number and its unit («300 мс», «99 %», «гл. 8»),
#     so that no line of the PDF starts with a dash or ends with «в»;
#   - {{tsv book/data/NAME.tsv | Подпись}}: a table of measured data, with the
#     column names of book/tables.txt, decimal commas, and the lines "# …"
#     of the file (the machine, the run) under the caption;
#   - [[<<Имя>>]] in prose: a link to the chunk, ⟨Имя 3:5⟩, its label from the weave;
#     {{chunk Имя}}: the chunk's title line as the book prints it;
#     {{label Имя}}: the chunk's label alone;
#   - numbers of figures and tables in the HTML, the same as LaTeX gives them;
#   - an anchor at the first mention in each section of every term of
#     book/subjects.txt, for the subject index.
# At the end: the bibliography (pandoc --citeproc fills it), the subject index,
# the index of chunks and the index of identifiers (the library's public
# interface apart from everything else), with page numbers in the PDF.
use strict;
use warnings;
use utf8;
binmode STDIN, ':utf8'; binmode STDOUT, ':utf8'; binmode STDERR, ':utf8';

my $NBSP = "\x{a0}";
my @items;          # {docs => text} or a chunk hash
my ($chapter, $anchor_id, $k, $appendices, $appendix, $file) = (0, 0, 0, 0, 0, '');
my ($cur, $line);

while (<STDIN>) {
    chomp;
    my ($kw, $rest) = /^\@(\S+)(?: (.*))?$/ or next;
    $rest //= '';
    if ($kw eq 'file') {
        # book/NN-slug.nw is chapter NN; book/a-slug.nw, b-… are the appendices
        # А, Б, … (their chunks are labelled А:1, Б:3; anchors stay ASCII).
        my ($num, $letter) = $rest =~ m{(?:^|/)(?:(\d+)|([a-z]))-}
            or die "nw2md: $rest: имя главы должно начинаться с NN- или буквы приложения (a-)\n";
        ($file, $line) = ($rest, 1);
        $appendix = defined $letter;
        ($chapter, $anchor_id) = $appendix
            ? (substr('АБВГДЕЖИКЛМН', ord($letter) - ord('a'), 1), uc $letter)
            : ($num + 0) x 2;
        $k = 0;
        # The first appendix switches LaTeX to lettered chapters.
        push @items, { docs => "\n" . ($appendix && !$appendices++ ? "\n```{=latex}\n\\appendix\\renewcommand{\\thechapter}{\\bookletter{chapter}}\n```\n\n" : ''),
                       chapter => $chapter, file => $file, line => $line };
    } elsif ($kw eq 'begin' && $rest =~ /^code/) {
        $k++;
        $cur = { chapter => $chapter, label => "$chapter:$k", anchor => "nw-$anchor_id-$k",
                 code => [], defs => [], file => $file, line => $line };
        push @items, $cur;
    } elsif ($kw eq 'begin') {
        $cur = { docs => '', appendix => $appendix, chapter => $chapter, file => $file, line => $line };
        push @items, $cur;
    } elsif ($kw eq 'end') {
        $cur = undef;
    } elsif ($kw eq 'defn') {
        $cur->{name} = $rest;
    } elsif ($kw eq 'nl') {
        $line++;
        next unless $cur;
        if (exists $cur->{docs}) { $cur->{docs} .= "\n"; } else { push @{ $cur->{code} }, [nl => '']; }
    } elsif ($kw eq 'index' && $rest eq 'nl') {
        $line++;
    } elsif (!$cur) {
        next;
    } elsif (exists $cur->{docs}) {
        if    ($kw eq 'text')     { $cur->{docs} .= $rest; }
        elsif ($kw eq 'quote')    { $cur->{docs} .= '`'; }
        elsif ($kw eq 'endquote') { $cur->{docs} .= '`'; }
        # a chunk named in prose: [[<<Имя>>]] — resolved to a link below
        elsif ($kw eq 'use')      { $cur->{docs} .= "\x{1}$rest\x{2}"; }
    } else {
        if    ($kw eq 'text') { push @{ $cur->{code} }, [text => $rest]; }
        elsif ($kw eq 'use')  { push @{ $cur->{code} }, [use => $rest]; }
        elsif ($kw eq 'index' && $rest =~ /^defn (\S+)/) { push @{ $cur->{defs} }, $1; }
    }
}

# ---- cross references
my @chunks = grep { exists $_->{name} } @items;
my (%defs, %used_in, %def_ident, %ident_uses);
for my $c (@chunks) {
    push @{ $defs{ $c->{name} } }, $c;
    for my $t (@{ $c->{code} }) {
        next unless $t->[0] eq 'use';
        my $list = $used_in{ $t->[1] } //= [];
        push @$list, $c unless grep { $_ == $c } @$list;
    }
    $def_ident{$_} //= $c for @{ $c->{defs} };
}
for my $c (@chunks) {
    for my $t (@{ $c->{code} }) {
        die "nw2md: $c->{file}: фрагмент ⟨$t->[1]⟩ используется, но нигде не определён (запустите ./tangle.sh)\n"
            if $t->[0] eq 'use' && !$defs{ $t->[1] };
    }
}
for my $c (@chunks) {
    my %seen;
    for my $t (@{ $c->{code} }) {
        next unless $t->[0] eq 'text';
        for my $id ($t->[1] =~ /\b([A-Za-z_]\w*)\b/g) {
            next unless $def_ident{$id} && !$seen{$id}++;
            next if grep { $_ eq $id } @{ $c->{defs} };
            push @{ $ident_uses{$id} }, $c;
        }
    }
}
# The roots (files) a chunk ends up in: its language, and whether what it
# defines is the library's public interface (lib/*.h, not *_impl.h).
my %lang_of_ext = (c => 'c', h => 'c', html => 'html', sh => 'bash');
my (%lang, %public);
for my $root (grep { !$used_in{$_} } sort keys %defs) {
    my ($ext) = $root =~ /\.(\w+)$/;
    my $lang = $lang_of_ext{ $ext // '' } // 'c';
    my $is_api = $root =~ m{^lib/(?!.*_impl\.h$).*\.h$};
    my (@todo, %seen) = ($root);
    while (defined(my $n = shift @todo)) {
        next if $seen{$n}++;
        $lang{$n} //= $lang;
        $public{$n} = 1 if $is_api;
        for my $c (@{ $defs{$n} || [] }) {
            push @todo, map { $_->[1] } grep { $_->[0] eq 'use' } @{ $c->{code} };
        }
    }
}

# ---- output helpers
sub md_escape {   # chunk names are plain text: escape Markdown, keep [[code]]
    my ($s) = @_;
    my @parts = split /(\[\[.*?\]\])/, $s;
    return join '', map {
        /^\[\[(.*)\]\]$/ ? "`$1`" : do { (my $t = $_) =~ s/([\\`*_{}\[\]()#+\-.!<>|~^\$"'@])/\\$1/g; $t }
    } @parts;
}
sub latex { return "`$_[0]`{=latex}"; }

# ---- coverage by the tests (make coverage writes book/data/coverage.tsv):
# rows "name, definition, lines, offset, count"; a definition whose length
# differs from the recorded one has changed since, and its counts are not used
my %cov;
if (open my $fh, '<:utf8', 'book/data/coverage.tsv') {
    while (<$fh>) {
        chomp;
        my ($name, $def, $n, $off, $count) = split /\t/;
        next unless defined $count;
        $cov{$name}{$def}{n} = $n;
        $cov{$name}{$def}{lines}{$off} = $count;
    }
}
# "выполнено 12 из 14 строк" and the offsets of lines no test runs, or ()
sub coverage_of {
    my ($c, $def) = @_;
    my $rec = $cov{ $c->{name} }{$def} or return;
    my $n = grep { $_->[0] eq 'nl' } @{ $c->{code} };
    return unless $rec->{n} == $n - 1;
    my @offs = sort { $a <=> $b } keys %{ $rec->{lines} };
    my @missed = grep { !$rec->{lines}{$_} } @offs;
    return (scalar(@offs) - scalar(@missed), scalar(@offs), @missed);
}
sub html  { return "`$_[0]`{=html}"; }
# the page a label sits on, in the PDF only: "3:5 (45)"
sub page  { my ($anchor) = @_; return latex("\\,(\\hyperlink{$anchor}{\\pageref*{$anchor}})"); }
sub chunk_link { my ($c) = @_; return "[$c->{label}](#$c->{anchor})"; }
sub chunk_link_page { my ($c) = @_; return chunk_link($c) . page($c->{anchor}); }
sub first_chunk {
    my ($name, $where) = @_;
    return $defs{$name}[0] if $defs{$name};
    die "nw2md: $where: фрагмента ⟨$name⟩ в книге нет\n";
}
sub links { return join ', ', map { chunk_link($_) } @_; }
sub links_pages { return join ', ', map { chunk_link_page($_) } @_; }

sub emit_chunk {
    my ($c) = @_;
    my $name = $c->{name};
    my $all = $defs{$name};
    my ($i) = grep { $all->[$_] == $c } 0 .. $#$all;
    my ($done, $lines, @missed) = coverage_of($c, $i + 1);
    my $attr = @missed ? ' uncovered="' . join(',', @missed) . '"' : '';
    my $out = "::: {.nwchunk$attr}\n" . latex("\\label{$c->{anchor}}")
            . "[**$c->{label}**]{#$c->{anchor} .nwtag} [⟨" . md_escape($name)
            . '⟩' . ($i ? '+≡' : '≡') . "]{.nwtitle}\n\n";
    my $code = '';
    for my $t (@{ $c->{code} }) {
        if    ($t->[0] eq 'text') { $code .= $t->[1]; }
        elsif ($t->[0] eq 'nl')   { $code .= "\n"; }
        else                      { $code .= "⟨$t->[1] " . first_chunk($t->[1], $c->{file})->{label} . '⟩'; }
    }
    $code =~ s/^\n//;        # the newline right after <<name>>=
    $code =~ s/\n*\z/\n/;
    my $lang = $lang{$name} // 'c';
    $out .= "~~~~~~~~ {.$lang .nwcode}\n$code~~~~~~~~\n\n";
    my @note;
    push @note, "Корневой фрагмент: файл `generated/$name`" unless $used_in{$name};
    push @note, "Используется в$NBSP" . links(@{ $used_in{$name} }) if $used_in{$name};
    push @note, "← пред.$NBSP" . chunk_link($all->[$i - 1]) if $i;
    push @note, "продолжение →$NBSP" . chunk_link($all->[$i + 1]) if $i < $#$all;
    push @note, 'Определяет: ' . join(', ', map { "`$_`" } @{ $c->{defs} }) if @{ $c->{defs} };
    push @note, "Тесты выполняют $done из $lines " . ($lines % 10 == 1 && $lines % 100 != 11 ? 'строки'
                                                     : 'строк') if $lines;
    $out .= "::: {.nwnote}\n" . join(' · ', @note) . ".\n:::\n" if @note;
    return $out . ":::\n";
}

# ---- Russian typography (prose only: never inside code, links' targets,
# attributes, raw TeX or HTML, citations)
my $PROTECT = qr{(`+).*?(?<!`)\1(?!`)                # inline code
               | \]\([^)\s]*\)                      # a link's target
               | \{[\#.][^\}]*\}                    # attributes
               | \[@[^\]]*\] | (?<![\w\[])@[\w:-]+  # citations
               | <[^<>\s][^<>]*>                    # HTML, autolinks
               | https?://[^\s)>]+
               | \\[A-Za-z]+(?:\{[^{}]*\})*         # \markright and such
               }x;
my $UNIT = qr{(?:нс|мкс|мс|с|мин|ч|сут|Б|байт\w*|бит\w*|КиБ|МиБ|ГиБ|КБ|МБ|ГБ|Кбит|Мбит|Гбит|%|пт|см|мм|раз\w*|тыс\.|млн|млрд|ядр\w*)(?![\w])};
sub typo_text {
    my ($s) = @_;
    $s =~ s/(?<![\w\-.\/@'’])([а-яёА-ЯЁ])[ ]+(?=\S)/$1$NBSP/g;   # «в доме», «и ещё»
    $s =~ s/[ ]+—(?=[ \n]|$)/$NBSP—/g;                            # «слово — дальше»
    $s =~ s/(\d)[ ]+(?=$UNIT)/$1$NBSP/g;                           # «300 мс», «99 %»
    $s =~ s/(?<=\d)[ ](?=\d{3}(?!\d))/$NBSP/g;                      # «10 000»
    $s =~ s/(?<![\w])(гл|с|рис|табл|разд|стр|п|№|§)(\.?)[ ]+(?=\d)/$1$2$NBSP/g;   # «гл. 8», «с. 45»
    $s =~ s/(?<![\w])(т)\.[ ]+(?=[едпкч]\.)/$1.$NBSP/g;          # «т. е.», «т. д.»
    $s =~ s/(?<![\w])(и|а|но)(\s)(т)\.$NBSP/$1$NBSP$3.$NBSP/g;     # «и т. д.»
    return $s;
}
sub typo_line {   # protected pieces stand aside as \x{E000}N\x{E001} meanwhile
    my ($l) = @_;
    my @kept;
    $l =~ s/$PROTECT/push @kept, $&; "\x{E000}$#kept\x{E001}"/ge;
    $l = typo_text($l);
    $l =~ s/\x{E000}(\d+)\x{E001}/$kept[$1]/g;
    return $l;
}
# kind of a prose line, for joining lines of one paragraph
sub line_kind {
    my ($l) = @_;
    return 'blank' if $l =~ /^\s*$/;
    return 'block' if $l =~ m{^\s*(?:\#|\||:::|>|\\|<|\{\{|\+[-=])};
    return 'item'  if $l =~ /^\s*(?:[-*+]|\d+[.)])\s/;
    return 'caption' if $l =~ /^: /;
    return 'para';
}
sub typo_docs {
    my ($docs) = @_;
    my (@out, @kind, $fence);
    for my $l (split /\n/, $docs, -1) {
        if (!$fence && $l =~ /^\s*(~~~+|```+)/) { $fence = substr($1, 0, 3); push @out, $l; push @kind, 'fence'; next; }
        if ($fence) { $fence = undef if $l =~ /^\s*\Q$fence\E/; push @out, $l; push @kind, 'fence'; next; }
        my $kind = line_kind($l);
        $l = typo_line($l) unless $kind eq 'block' && $l =~ m{^\s*(?:\\|<|:::|\{\{)};
        push @out, $l; push @kind, $kind;
    }
    # a paragraph's line that ends with a one-letter word, or the next line that
    # starts with a dash: the line break becomes a non-breaking space
    my @joined;
    for my $i (0 .. $#out) {
        my $l = $out[$i];
        if (@joined && $kind[$i] eq 'para' && $kind[$i - 1] =~ /^(?:para|item)$/
            && (($joined[-1] =~ /(?:^|[\s$NBSP(«])[а-яёА-ЯЁ]$/ && ($joined[-1] =~ tr/`//) % 2 == 0)
                || $l =~ /^\s*—\s/)) {
            $l =~ s/^\s+//;
            $joined[-1] .= $NBSP . $l;
            $kind[$i] = $kind[$i - 1];
            next;
        }
        push @joined, $l;
    }
    return join "\n", @joined;
}

# ---- tables of measured data
my %column;   # book/tables.txt: a column's name in the data -> in the book
if (open my $fh, '<:utf8', 'book/tables.txt') {
    while (<$fh>) {
        next if /^\s*(#|$)/;
        chomp;
        my ($raw, $ru) = split /\t+/, $_, 2;
        $column{$raw} = $ru if defined $ru;
    }
}
sub decimal_comma { my ($s) = @_; $s =~ s/(?<![\d.])(\d+)\.(\d+)(?![\d.])/$1,$2/g; return $s; }

# A prose line "{{tsv book/data/NAME.tsv}}" or "{{tsv book/data/NAME.tsv | Подпись}}"
# becomes a table of that measured data: the first line is the header, lines
# starting with "#" describe the machine and the run and go under the caption.
sub tsv_table {
    my ($path, $caption) = @_;
    open my $fh, '<:utf8', $path or die "nw2md: {{tsv $path}}: $!\n";
    my (@rows, @notes);
    while (my $line = <$fh>) {
        chomp $line;
        next if $line =~ /^\s*$/;
        if ($line =~ /^#\s*(.*)/) { push @notes, decimal_comma($1); next; }
        push @rows, [map { decimal_comma($_) =~ s/\|/\\|/gr } split /\t/, $line, -1];
    }
    close $fh;
    die "nw2md: $path: нет строк данных\n" unless @rows;
    my $head = shift @rows;
    for (@$head) {
        my $ru = $column{$_} // next;
        $_ = $ru;
    }
    if (my @raw = grep { /^[a-z]+(?:_[a-z]+)+$/ } @$head) {
        die "nw2md: $path: у столбцов @raw нет русского имени в book/tables.txt\n";
    }
    my $out = '| ' . join(' | ', @$head) . " |\n";
    # dashes as wide as the widest cell: a table wider than a line then
    # wraps its cells, columns sized by their content (pandoc's pipe tables)
    # (a header wraps: its longest word counts, not its whole length)
    my @width = map { my $c = $_; my $w = 3;
                      for my $l (map({ length } split / /, $head->[$c]), map { length($_->[$c] // '') } @rows) {
                          $w = $l if $l > $w;
                      }
                      $w + 1 } 0 .. $#$head;
    # numbers to the right, words (and the first column) to the left
    my @numeric = map { my $c = $_; $c > 0 && !grep { ($_->[$c] // '') !~ /^[-−+\d\s,.%×]*$/ } @rows } 0 .. $#$head;
    $out .= '|' . join('|', map { $numeric[$_] ? '-' x $width[$_] . ':' : ':' . '-' x $width[$_] } 0 .. $#$head) . "|\n";
    $out .= '| ' . join(' | ', @$_) . " |\n" for @rows;
    $caption //= '';
    $caption .= '.' if $caption ne '' && $caption !~ /[.!?]$/;
    if (@notes) {
        my $n = join('; ', @notes);
        $caption .= ' ' . latex('{\footnotesize ') . "[Условия: $n.]{.datanote}" . latex('}');
    }
    $out .= "\n: $caption\n" if $caption ne '';
    # many columns: a size smaller in the PDF, so that the table keeps to the text block
    $out = "```{=latex}\n\\begingroup\\renewcommand{\\booktablesize}{\\footnotesize}\n```\n\n$out\n"
         . "```{=latex}\n\\endgroup\n```\n" if @$head > 6;
    return $out;
}

# ---- subject index: book/subjects.txt, "Термин<TAB>регулярное выражение"
my @subjects;
if (open my $fh, '<:utf8', 'book/subjects.txt') {
    while (<$fh>) {
        next if /^\s*(#|$)/;
        chomp;
        my ($term, $re) = split /\t+/, $_, 2;
        push @subjects, { term => $term, re => defined $re ? qr/$re/ : qr/\Q$term\E/i, at => [] };
    }
}
my $ix = 0;
# anchors the first mention of each term in a section on this prose line
sub mark_subjects {
    my ($l, $section, $seen) = @_;
    return $l if $l =~ m{^\s*(?:\#|\||:::|\\|<|\{\{|:\s|!\[)} || $l =~ /^\s*$/;
    (my $plain = $l) =~ s/\]\([^)]*\)|\{[#.][^}]*\}//g;
    my @all = grep { $plain =~ $_->{re} } @subjects;
    $_->{lines}{$section}++ for @all;
    my @hits = grep { !$seen->{ $_->{term} } } @all;
    return $l unless @hits;
    my $anchors = '';
    for my $s (@hits) {
        $seen->{ $s->{term} } = 1;
        my $id = 'ix-' . ++$ix;
        push @{ $s->{at} }, { id => $id, section => $section };
        $anchors .= "[]{#$id}" . latex("\\label{$id}");
    }
    $l =~ s/^(\s*(?:(?:[-*+]|\d+[.)])\s+|>\s*)?)/$1$anchors/;
    return $l;
}

# ---- prose: chunk names resolved, directives expanded, numbers of sections,
# figures and tables counted as pandoc and LaTeX count them
my ($sec, $fig, $tab, $sec_label, %seen_in_sec) = (0, 0, 0, '');
my $last_chapter = -1;
sub number_of { my ($n) = @_; return $chapter eq '0' ? $n : "$chapter.$n"; }
for my $item (@items) {
    if (!exists $item->{docs}) { print "\n" . emit_chunk($item) . "\n"; next; }
    my $docs = $item->{docs};
    ($chapter, $file) = @$item{qw(chapter file)};
    if ($chapter ne $last_chapter) {
        ($sec, $fig, $tab, $last_chapter) = (0, 0, 0, $chapter);
        ($sec_label, %seen_in_sec) = ($chapter eq '0' ? 'Введение' : $chapter);
    }
    my $where = "$file:$item->{line}";
    $docs =~ s{`\x{1}([^\x{2}]*)\x{2}`|\x{1}([^\x{2}]*)\x{2}}{
        my $c = first_chunk($1 // $2, $where);
        "[⟨" . md_escape($c->{name}) . " $c->{label}⟩](#$c->{anchor})"
    }ge;
    $docs =~ s{^\{\{chunk\s+(.+?)\s*\}\}[ \t]*$}{
        my $c = first_chunk($1, $where);
        "> [**$c->{label}**](#$c->{anchor}){.nwtag} [⟨" . md_escape($c->{name}) . "⟩≡]{.nwtitle}"
    }gme;
    $docs =~ s{\{\{label\s+(.+?)\s*\}\}}{ my $c = first_chunk($1, $where); "[$c->{label}](#$c->{anchor})" }ge;
    $docs =~ s/^\{\{tsv\s+(\S+?)\s*(?:\|\s*(.*?)\s*)?\}\}[ \t]*$/tsv_table($1, $2)/gme;
    die "nw2md: $where: непонятная вставка $1 (есть {{tsv …}}, {{chunk …}}, {{label …}})\n" if $docs =~ /^(\{\{[^}]*\}\})/m;
    # an appendix's title: linkify.pl letters it in the HTML
    $docs =~ s/^(# .*\{#[\w-]+)\}[ \t]*$/$1 .appendix}/m if $item->{appendix};
    $docs = typo_docs($docs);
    # sections, figures and tables, line by line (never inside a code block)
    my ($fence, $ticks, $prev) = (undef, 0, '');
    my @out;
    for my $l (split /\n/, $docs, -1) {
        if (!$fence && $l =~ /^\s*(~~~+|```+)/) { $fence = substr($1, 0, 3); }
        elsif ($fence) { $fence = undef if $l =~ /^\s*\Q$fence\E/; }
        else {
            if ($l =~ /^## (.*)$/) {
                unless ($1 =~ /\{[^}]*(?:\.unnumbered|(?<![\w-])-(?![\w-]))[^}]*\}\s*$/) {
                    $sec++;
                    ($sec_label, %seen_in_sec) = ("$chapter.$sec");
                }
            }
            if ($l =~ /^\s*!\[/ && $prev =~ /^\s*$/) {
                my $n = number_of(++$fig);
                $l =~ s/^(\s*!\[)/$1 . html("<span class=\"fignum\">Рис. $n.<\/span>") . ' '/e;
            }
            if ($l =~ /^: \S/) {
                my $n = number_of(++$tab);
                $l =~ s/^: /': ' . html("<span class=\"tabnum\">Таблица $n.<\/span>") . " "/e;
            }
            # not on a line that starts inside `code` or in a chapter's title
            $l = mark_subjects($l, $sec_label, \%seen_in_sec) if @subjects && $ticks % 2 == 0 && $l !~ /^# /;
            $ticks += ($l =~ tr/`//);
            $ticks = 0 if $l =~ /^\s*$/;
        }
        push @out, $l;
        $prev = $l;
    }
    print join("\n", @out);
}

# ---- bibliography and indices
sub by_name { return sort { lc($a) cmp lc($b) } @_; }
sub index_chapter {
    my ($id, $title) = @_;
    print "\n# $title {#$id .unnumbered}\n\n", latex("\\markright{$title}\\bookindexstyle"), "\n\n";
}
index_chapter('bibliography', 'Литература');
print "::: {#refs}\n:::\n";

if (@subjects) {
    index_chapter('index-subjects', 'Предметный указатель');
    print "Номер — раздел книги, где о термине говорится: первое упоминание и разделы,\n",
          "где термин встречается не раз; в PDF в скобках — страница.\n\n";
    for my $s (sort { lc($a->{term}) cmp lc($b->{term}) } grep { @{ $_->{at} } } @subjects) {
        my ($first, @rest) = @{ $s->{at} };
        my @at = ($first, grep { $s->{lines}{ $_->{section} } >= 2 } @rest);
        print "- $s->{term}: ",
            join(', ', map { "[$_->{section}](#$_->{id})" . page($_->{id}) } @at), ".\n";
    }
}

index_chapter('index-chunks', 'Указатель фрагментов');
print "Номер фрагмента — глава и его порядковый номер в ней; в PDF в скобках — страница.\n\n";
for my $name (by_name(keys %defs)) {
    my $line = "- ⟨" . md_escape($name) . "⟩: " . links_pages(@{ $defs{$name} });
    $line .= "; используется в$NBSP" . links_pages(@{ $used_in{$name} }) if $used_in{$name};
    $line .= '; корневой фрагмент' unless $used_in{$name};
    print "$line.\n";
}

index_chapter('index-identifiers', 'Указатель идентификаторов');
my @api = grep { $public{ $def_ident{$_}{name} } } keys %def_ident;
my %is_api = map { $_ => 1 } @api;
for my $group (['Интерфейс библиотеки', 'Объявлены в заголовках `lib/*.h`: то, что библиотека обещает программам.', [by_name(@api)]],
               ['Внутреннее: программы глав, статические функции, устройство модулей',
                "Статические функции, типы и макросы реализаций, внутренние заголовки `*_impl.h` и${NBSP}программы глав.",
                [by_name(grep { !$is_api{$_} } keys %def_ident)]]) {
    my ($title, $about, $ids) = @$group;
    print "\n## $title {.unnumbered}\n\n$about\n\n";
    for my $id (@$ids) {
        my $line = "- `$id`: определён в$NBSP" . chunk_link_page($def_ident{$id});
        $line .= "; используется в$NBSP" . links(@{ $ident_uses{$id} }) if $ident_uses{$id};
        print "$line.\n";
    }
}
