#!/usr/bin/perl
# linemap.pl filter — places in the build's sources translated to the book.
#
#       Stdin to stdout, each "…build/src/PATH:LINE" (a compiler message, a
#       sanitizer's stack frame) replaced by the place in the book, read from
#       build/src/PATH.nwmap beside the file (tangle.sh --lines writes the
#       maps: one line per line of the file). The build compiles the plain
#       files, so a prose edit that shifts a chapter's lines rewrites only the
#       maps, and no object is recompiled; the messages still name the book.
use strict;
use warnings;

my $mode = shift // '';
die "usage: linemap.pl filter <messages\n" unless $mode eq 'filter';

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
