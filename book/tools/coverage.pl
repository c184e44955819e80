#!/usr/bin/perl
# coverage.pl — gcov's counts mapped back to the chunks of the book.
#
#   gcov --json-format --stdout … | perl book/tools/coverage.pl [options]
#     --src DIR         the build's sources with their line maps (build/src):
#                       DIR/PATH.nwmap says, line by line, which line of which
#                       chapter each line of DIR/PATH came from
#     --lines FILE      write the counts by chunk (book/data/coverage.tsv):
#                       "name<TAB>definition<TAB>lines<TAB>offset<TAB>count",
#                       one row per line gcov can execute; a chunk is keyed
#                       by its name and the number of its definition, a line
#                       by its offset in that definition, so a prose edit
#                       elsewhere leaves the data valid, and "lines" (the
#                       definition's length) tells the weave when the chunk
#                       itself changed and its counts no longer apply
#     --summary FILE    per chapter and for the library: executable lines,
#                       executed, share, chunks, chunks fully executed
#     --missed FILE     every line of the library no test executes:
#                       "book/X.nw:LINE<TAB>label ⟨name⟩<TAB>the line"
#     --reasons FILE    why lines stay unexecuted: rows "regex<TAB>reason",
#                       the first whose regex matches "name<TAB>the line"
#                       gives the reason (book/coverage-reasons.txt)
#     --table FILE      the library's unexecuted lines for the book
#                       (book/data/coverage-missed.tsv): per chunk and
#                       reason, the lines' offsets in the chunk
#     chapters…         the .nw files (default book/*.nw)
#
# A chunk belongs to the library when every file it ends up in is under
# lib/. Counts of a line compiled into several objects (a chunk used by
# two programs) are added up: the line is executed if any of them ran it.
use strict;
use warnings;
use utf8;
use JSON::PP;
binmode STDOUT, ':utf8'; binmode STDERR, ':utf8';

my ($src, $lines_out, $summary_out, $missed_out, $reasons_in, $table_out) = ('build/src');
my @chapters;
while (@ARGV) {
    my $a = shift @ARGV;
    if    ($a eq '--src')     { $src = shift @ARGV; }
    elsif ($a eq '--lines')   { $lines_out = shift @ARGV; }
    elsif ($a eq '--summary') { $summary_out = shift @ARGV; }
    elsif ($a eq '--missed')  { $missed_out = shift @ARGV; }
    elsif ($a eq '--reasons') { $reasons_in = shift @ARGV; }
    elsif ($a eq '--table')   { $table_out = shift @ARGV; }
    else                      { push @chapters, $a; }
}
@chapters = sort glob 'book/*.nw' unless @chapters;

# ---- the web: where each code line of each chunk definition is
my (%at, @chunks, %ndefs, %used, %uses, %text);
{
    open my $m, '-|', '/usr/lib/noweb/markup', @chapters or die "coverage: markup: $!\n";
    binmode $m, ':utf8';
    my ($file, $line, $k, $label, $cur) = ('', 1, 0, '');
    while (<$m>) {
        chomp;
        if (/^\@file (.*)$/) {
            ($file, $line, $k) = ($1, 1, 0);
            my ($num, $letter) = $file =~ m{(?:^|/)(?:(\d+)|([a-z]))-};
            $label = defined $letter ? substr('АБВГДЕЖИКЛМН', ord($letter) - ord('a'), 1) : ($num // 0) + 0;
        } elsif (/^\@begin code/) {
            $k++;
            $cur = { file => $file, start => $line, label => "$label:$k", nlines => 0 };
            push @chunks, $cur;
        } elsif (/^\@end code/) {
            $cur = undef;
        } elsif (/^\@defn (.*)$/ && $cur) {
            $cur->{name} = $1;
            $cur->{def} = ++$ndefs{$1};
        } elsif (/^\@use (.*)$/) {
            $used{$1} = 1;
            $uses{ $cur->{name} }{$1} = 1 if $cur && defined $cur->{name};
        } elsif (/^\@text (.*)$/ && $cur) {
            $text{"$file:$line"} .= $1;
        } elsif (/^\@(?:index )?nl$/) {
            $line++;
            if ($cur) {      # the first @nl ends the <<name>>= line
                my $off = $line - $cur->{start};
                $at{"$file:$line"} = [$cur, $off];
                $cur->{nlines} = $off;
            }
        }
    }
    close $m;
}
# the last @nl of a chunk is the one before "@": not a code line
delete $at{"$_->{file}:" . ($_->{start} + $_->{nlines})}, $_->{nlines}-- for @chunks;

# the files each chunk ends up in: roots are chunks nobody uses
my %roots_of;
for my $root (grep { !$used{$_} } keys %ndefs) {
    my @todo = ($root);
    my %seen;
    while (defined(my $n = shift @todo)) {
        next if $seen{$n}++;
        $roots_of{$n}{$root} = 1;
        push @todo, keys %{ $uses{$n} || {} };
    }
}
my $in_lib = sub {
    my @r = keys %{ $roots_of{ $_[0] } || {} };
    return @r && !grep { !m{^lib/} } @r;
};

# ---- gcov's counts, through the line maps, onto lines of the book
my (%count, %maps);
my $json = JSON::PP->new;
while (my $l = <STDIN>) {
    next unless $l =~ /^\{/;
    my $d = $json->decode($l);
    for my $f (@{ $d->{files} }) {
        (my $path = $f->{file}) =~ s{^(?:.*/)?\Q$src\E/}{};
        my $map = $maps{$path} //= do {
            my @m;
            if (open my $fh, '<:utf8', "$src/$path.nwmap") { chomp(@m = <$fh>); }
            \@m;
        };
        for my $ln (@{ $f->{lines} }) {
            my $book = $map->[ $ln->{line_number} - 1 ] // '';
            next unless $at{$book};
            $count{$book} += $ln->{count};
        }
    }
}

# ---- per chunk, per chapter, for the library
my (%per, @rows, @missed, %missed_in);
for my $key (sort { $at{$a}[0]{file} cmp $at{$b}[0]{file} || $at{$a}[0]{start} <=> $at{$b}[0]{start} || $at{$a}[1] <=> $at{$b}[1] } keys %count) {
    my ($c, $off) = @{ $at{$key} };
    $c->{exec}++;
    $c->{done}++ if $count{$key} > 0;
    push @rows, join("\t", $c->{name}, $c->{def}, $c->{nlines}, $off, $count{$key});
    if ($count{$key} == 0 && $in_lib->($c->{name})) {
        (my $t = $text{$key} // '') =~ s/^\s+//;
        push @missed, "$key\t$c->{label} ⟨$c->{name}⟩\t$t";
        push @{ $missed_in{ $c->{label} } }, [$c, $off, $t];
    }
}
for my $c (grep { $_->{exec} } @chunks) {
    for my $group ($c->{file}, $in_lib->($c->{name}) ? 'lib/' : ()) {
        my $g = $per{$group} //= { lines => 0, done => 0, chunks => 0, full => 0, touched => 0 };
        $g->{lines} += $c->{exec};
        $g->{done} += $c->{done} // 0;
        $g->{chunks}++;
        $g->{full}++ if ($c->{done} // 0) == $c->{exec};
        $g->{touched}++ if $c->{done};
    }
}

my @summary = ("что\tстрок кода\tвыполнено\tдоля, %\tфрагментов\tвыполнено целиком\tне выполнено ни строки");
for my $group ((grep { $_ ne 'lib/' } sort keys %per), 'lib/') {
    my $g = $per{$group} or next;
    push @summary, sprintf "%s\t%d\t%d\t%.1f\t%d\t%d\t%d",
        $group eq 'lib/' ? 'библиотека (lib/)' : $group, $g->{lines}, $g->{done},
        100 * $g->{done} / $g->{lines}, $g->{chunks}, $g->{full}, $g->{chunks} - $g->{touched};
}
print "$_\n" for @summary;

sub write_file {
    my ($path, @lines) = @_;
    return unless defined $path;
    open my $fh, '>:utf8', $path or die "coverage: $path: $!\n";
    print $fh "$_\n" for @lines;
    close $fh or die "coverage: $path: $!\n";
}
write_file($lines_out, @rows);
write_file($summary_out, @summary);
my $lineno = sub { my ($f, $n) = $_[0] =~ /^(.*):(\d+)\t/; return ($f, $n); };
write_file($missed_out, sort {
    my @a = $lineno->($a); my @b = $lineno->($b);
    $a[0] cmp $b[0] || $a[1] <=> $b[1]
} @missed);

# ---- the table for the book: per chunk and reason, the offsets
if (defined $table_out) {
    my @reasons;
    if (defined $reasons_in) {
        open my $fh, '<:utf8', $reasons_in or die "coverage: $reasons_in: $!\n";
        while (<$fh>) {
            chomp;
            next if /^#/ || !/\t/;
            my ($re, $why) = split /\t+/, $_, 2;
            push @reasons, [qr/$re/, $why];
        }
    }
    my @table = ("фрагмент\tстроки\tпочему не выполнены");
    my %n_of;
    my $order = sub { my ($l) = @_; my ($c, $n) = split /:/, $l; ($c =~ /^\d+$/ ? sprintf('%03d', $c) : "Z$c") . sprintf('%04d', $n) };
    for my $label (sort { $order->($a) cmp $order->($b) } keys %missed_in) {
        my (%by, @whys);
        for my $m (@{ $missed_in{$label} }) {
            my ($c, $off, $t) = @$m;
            my ($r) = grep { "$c->{name}\t$t" =~ $_->[0] } @reasons;
            my $why = $r ? $r->[1] : 'тест не написан';
            push @whys, $why unless $by{$why};
            push @{ $by{$why} }, $off;
            $n_of{$why}++;
        }
        my $name = $missed_in{$label}[0][0]{name};
        push @table, "$label ⟨$name⟩\t" . join(', ', @{ $by{$_} }) . "\t$_" for @whys;
    }
    write_file($table_out, @table);
    printf STDERR "%5d  %s\n", $n_of{$_}, $_ for sort { $n_of{$b} <=> $n_of{$a} } keys %n_of;
}
