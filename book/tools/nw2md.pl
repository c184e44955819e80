#!/usr/bin/perl
# nw2md.pl — the weave filter: noweb's markup stream (markup book/*.nw) in,
# Pandoc Markdown out.
#
# Prose passes through as it is (it is Markdown already). Each code chunk
# becomes a titled, anchored block:
#
#   1.3 ⟨Принять подключение 1.2⟩+≡        1.3 is this chunk's own label
#   ~~~ {.c}                               (chapter.number), 1.2 is the label
#   … ⟨Другой фрагмент 1.5⟩ …              of the chunk's first definition
#   ~~~
#   Используется в 1.1 · ← пред. 1.2 · продолжение → 1.7 · Определяет: x
#
# A chunk use inside code stays a plain ⟨name label⟩ token; linkify.pl turns
# it into a link after pandoc has highlighted the code. At the end come two
# indices: of chunks and of identifiers declared with "@ %def".
use strict;
use warnings;
use utf8;
binmode STDIN, ':utf8'; binmode STDOUT, ':utf8';

my @items;          # {docs => text} or a chunk hash
my ($chapter, $anchor_id, $k, $appendices, $appendix) = (0, 0, 0, 0, 0);
my ($cur, $in_quote);

while (<STDIN>) {
    chomp;
    my ($kw, $rest) = /^\@(\S+)(?: (.*))?$/ or next;
    $rest //= '';
    if ($kw eq 'file') {
        # book/NN-slug.nw is chapter NN; book/a-slug.nw, b-… are the appendices
        # А, Б, … (their chunks are labelled А.1, Б.3; anchors stay ASCII).
        my ($num, $letter) = $rest =~ m{(?:^|/)(?:(\d+)|([a-z]))-}
            or die "nw2md: $rest: имя главы должно начинаться с NN- или буквы приложения (a-)\n";
        $appendix = defined $letter;
        ($chapter, $anchor_id) = $appendix
            ? (substr('АБВГДЕЖИКЛМН', ord($letter) - ord('a'), 1), uc $letter)
            : ($num + 0) x 2;
        $k = 0;
        # The first appendix switches LaTeX to lettered chapters.
        push @items, { docs => "\n" . ($appendix && !$appendices++ ? "\n```{=latex}\n\\appendix\\renewcommand{\\thechapter}{\\bookletter{chapter}}\n```\n\n" : '') };
    } elsif ($kw eq 'begin' && $rest =~ /^code/) {
        $k++;
        $cur = { chapter => $chapter, label => "$chapter.$k", anchor => "nw-$anchor_id-$k",
                 code => [], defs => [] };
        push @items, $cur;
    } elsif ($kw eq 'begin') {
        $cur = { docs => '', appendix => $appendix };
        push @items, $cur;
    } elsif ($kw eq 'end') {
        $cur = undef;
    } elsif ($kw eq 'defn') {
        $cur->{name} = $rest;
    } elsif (!$cur) {
        next;
    } elsif (exists $cur->{docs}) {
        if    ($kw eq 'text')     { $cur->{docs} .= $rest; }
        elsif ($kw eq 'nl')       { $cur->{docs} .= "\n"; }
        elsif ($kw eq 'quote')    { $cur->{docs} .= '`'; }
        elsif ($kw eq 'endquote') { $cur->{docs} .= '`'; }
        elsif ($kw eq 'use')      { $cur->{docs} .= "⟨$rest⟩"; }
    } else {
        if    ($kw eq 'text') { push @{ $cur->{code} }, [text => $rest]; }
        elsif ($kw eq 'nl')   { push @{ $cur->{code} }, [nl => '']; }
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
# The language of a chunk is the language of the file (root) it ends up in.
my %lang_of_ext = (c => 'c', h => 'c', html => 'html', sh => 'bash');
my %lang;
for my $root (grep { !$used_in{$_} } keys %defs) {
    my ($ext) = $root =~ /\.(\w+)$/;
    my $lang = $lang_of_ext{ $ext // '' } // 'c';
    my @todo = ($root);
    while (defined(my $n = shift @todo)) {
        next if $lang{$n};
        $lang{$n} = $lang;
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
        /^\[\[(.*)\]\]$/ ? "`$1`" : do { (my $t = $_) =~ s/([\\`*_{}\[\]()#+\-.!<>|~^\$"'])/\\$1/g; $t }
    } @parts;
}
sub chunk_link { my ($c) = @_; return "[$c->{label}](#$c->{anchor})"; }
sub first_label { my ($name) = @_; return $defs{$name} ? $defs{$name}[0]{label} : '??'; }
sub links { return join ', ', map { chunk_link($_) } @_; }

sub emit_chunk {
    my ($c) = @_;
    my $name = $c->{name};
    my $all = $defs{$name};
    my ($i) = grep { $all->[$_] == $c } 0 .. $#$all;
    my $sign = $i ? '+≡' : '≡';
    my $out = "::: {.nwchunk}\n";
    $out .= "[**$c->{label}**]{#$c->{anchor} .nwtag} [⟨" . md_escape($name)
          . ' ' . first_label($name) . "⟩$sign]{.nwtitle}\n\n";
    my $code = '';
    for my $t (@{ $c->{code} }) {
        if    ($t->[0] eq 'text') { $code .= $t->[1]; }
        elsif ($t->[0] eq 'nl')   { $code .= "\n"; }
        else                      { $code .= "⟨$t->[1] " . first_label($t->[1]) . '⟩'; }
    }
    $code =~ s/^\n//;        # the newline right after <<name>>=
    $code =~ s/\n*\z/\n/;
    my $lang = $lang{$name} // 'c';
    $out .= "~~~~~~~~ {.$lang .nwcode}\n$code~~~~~~~~\n\n";
    my @note;
    push @note, "Корневой фрагмент: файл `generated/$name`" unless $used_in{$name};
    push @note, 'Используется в ' . links(@{ $used_in{$name} }) if $used_in{$name};
    push @note, '← пред. ' . chunk_link($all->[$i - 1]) if $i;
    push @note, 'продолжение → ' . chunk_link($all->[$i + 1]) if $i < $#$all;
    push @note, 'Определяет: ' . join(', ', map { "`$_`" } @{ $c->{defs} }) if @{ $c->{defs} };
    $out .= "::: {.nwnote}\n" . join(' · ', @note) . ".\n:::\n" if @note;
    return $out . ":::\n";
}

# A prose line "{{tsv book/data/NAME.tsv}}" or "{{tsv book/data/NAME.tsv | Подпись}}"
# becomes a table of that measured data: the first line is the header, lines
# starting with "#" describe the machine and the run and go under the table.
sub tsv_table {
    my ($path, $caption) = @_;
    open my $fh, '<:utf8', $path or die "nw2md: {{tsv $path}}: $!\n";
    my (@rows, @notes);
    while (my $line = <$fh>) {
        chomp $line;
        next if $line =~ /^\s*$/;
        if ($line =~ /^#\s*(.*)/) { push @notes, $1; next; }
        push @rows, [map { s/\|/\\|/gr } split /\t/, $line, -1];
    }
    close $fh;
    die "nw2md: $path: нет строк данных\n" unless @rows;
    my $head = shift @rows;
    my $out = '| ' . join(' | ', @$head) . " |\n";
    # dashes as wide as the widest cell: a table wider than a line then
    # wraps its cells, columns sized by their content (pandoc's pipe tables)
    my @width = map { my $c = $_; my $w = 3;
                      for my $r ($head, @rows) { my $l = length($r->[$c] // ''); $w = $l if $l > $w; }
                      $w } 0 .. $#$head;
    $out .= '|' . join('|', map { $_ == 0 ? ':' . '-' x $width[$_] : '-' x $width[$_] . ':' } 0 .. $#$head) . "|\n";
    $out .= '| ' . join(' | ', @$_) . " |\n" for @rows;
    $out .= "\n: $caption\n" if defined $caption;
    $out .= "\n::: {.datanote}\n" . join(' · ', @notes) . "\n:::\n" if @notes;
    return $out;
}

for my $item (@items) {
    if (exists $item->{docs}) {
        (my $docs = $item->{docs}) =~
            s/^\{\{tsv\s+(\S+?)\s*(?:\|\s*(.*?)\s*)?\}\}[ \t]*$/tsv_table($1, $2)/gme;
        # an appendix's title: linkify.pl letters it in the HTML
        $docs =~ s/^(# .*\{#[\w-]+)\}[ \t]*$/$1 .appendix}/m if $item->{appendix};
        print $docs;
    } else {
        print "\n" . emit_chunk($item) . "\n";
    }
}

# ---- indices
sub by_name { return sort { lc($a) cmp lc($b) } @_; }
print "\n# Указатель фрагментов {#index-chunks .unnumbered}\n\n\\markright{Указатель фрагментов}\n\n";
for my $name (by_name(keys %defs)) {
    my $line = "- ⟨" . md_escape($name) . "⟩: " . links(@{ $defs{$name} });
    $line .= '; используется в ' . links(@{ $used_in{$name} }) if $used_in{$name};
    $line .= '; корневой фрагмент' unless $used_in{$name};
    print "$line.\n";
}
print "\n# Указатель идентификаторов {#index-identifiers .unnumbered}\n\n\\markright{Указатель идентификаторов}\n\n";
for my $id (by_name(keys %def_ident)) {
    my $line = "- `$id`: определён в " . chunk_link($def_ident{$id});
    $line .= '; используется в ' . links(@{ $ident_uses{$id} }) if $ident_uses{$id};
    print "$line.\n";
}
