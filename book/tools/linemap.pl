#!/usr/bin/perl
# linemap.pl — where each line of a tangled file comes from in the book.
#
#   linemap.pl make LINED PLAIN >PLAIN.nwmap
#       LINED is the file as `notangle -L` writes it (#line directives, no
#       indentation of included chunks), PLAIN the same root as `notangle`
#       writes it. Prints one line per line of PLAIN: "book/NN-….nw:LINE",
#       or nothing for a line the book has no place for (the header comment,
#       a blank line). The two differ only in indentation and blank lines.
#
#   linemap.pl filter
#       stdin to stdout, each "…build/src/PATH:LINE" (a compiler message, a
#       sanitizer's stack frame) replaced by the place in the book, read from
#       build/src/PATH.nwmap beside the file. The build compiles the plain
#       files, so a prose edit that shifts a chapter's lines rewrites only the
#       maps, and no object is recompiled; the messages still name the book.
use strict;
use warnings;

my $mode = shift // '';
if ($mode eq 'make') {
    my ($lined, $plain) = @ARGV;
    open my $lf, '<', $lined or die "linemap: $lined: $!\n";
    my (@from, $file, $line);
    while (<$lf>) {
        if (/^#line (\d+) "([^"]+)"$/) { ($file, $line) = ($2, $1); next; }
        chomp;
        push @from, [s/^\s+//r, defined $file ? "$file:" . $line++ : ''];
    }
    open my $pf, '<', $plain or die "linemap: $plain: $!\n";
    my $i = 0;
    while (my $text = <$pf>) {
        chomp $text;
        $text =~ s/^\s+//;
        $i++ while $i < @from && $from[$i][0] eq '' && $text ne '';
        if ($i < @from && $from[$i][0] eq $text) { print $from[$i++][1], "\n"; next; }
        die "linemap: $plain:$.: строка не найдена в $lined\n" if $text ne '';
        print "\n";
    }
    exit 0;
}
die "usage: linemap.pl make LINED PLAIN | linemap.pl filter\n" unless $mode eq 'filter';

$| = 1;
my %maps;
sub book_place {
    my ($dir, $path, $n) = @_;
    my $map = $maps{"$dir$path"} //= do {
        my @m;
        if (open my $fh, '<', "$dir$path.nwmap") { chomp(@m = <$fh>); }
        \@m;
    };
    my $to = $map->[$n - 1];
    return defined $to && $to ne '' ? $to : "$dir$path:$n";
}
while (<STDIN>) {
    s{((?:[^\s:'"(]*/)?build/src/)([\w./-]+\.[ch]):(\d+)}{book_place($1, $2, $3)}ge;
    print;
}
