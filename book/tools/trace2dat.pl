#!/usr/bin/perl
# trace2dat.pl TRACE.json [--window FROM_MS:TO_MS] [--lanes REGEX] [--from NAME]
# A trace of lib/trace (Trace Event JSON) as data for gnuplot timelines:
#   block 0: one line per slice  "lane  begin_ms  end_ms  lane_name  slice_name"
#   block 1: one line per instant "lane  at_ms  lane_name  name"
# Lanes are numbered from 0 in the order of their first event, top to
# bottom (the plot reverses the y axis); times are milliseconds from the
# first event shown (with --from NAME: from the first event named NAME, and
# the window counts from there). Names are quoted for gnuplot's columnheader-less
# string columns. Used by book/figures/*.gp as  plot '< perl …'.
use strict;
use warnings;
use utf8;
use JSON::PP;
binmode STDOUT, ':utf8';

my ($path, $from, $to, $only, $start) = (undef, undef, undef, undef, undef);
while (@ARGV) {
    my $a = shift @ARGV;
    if    ($a eq '--window') { ($from, $to) = split /:/, shift(@ARGV) // ''; }
    elsif ($a eq '--lanes')  { $only = shift @ARGV; }
    elsif ($a eq '--from')   { $start = shift @ARGV; }
    else                     { $path = $a; }
}
die "usage: trace2dat.pl TRACE.json [--window FROM_MS:TO_MS] [--lanes REGEX] [--from NAME]\n" unless defined $path;
open my $fh, '<:raw', $path or die "trace2dat: $path: $!\n";
my $doc = JSON::PP->new->decode(do { local $/; <$fh> });
my $events = $doc->{traceEvents} or die "trace2dat: $path: no traceEvents\n";

my (%name, %open, @slices, @instants);
for my $ev (@$events) {
    my $lane = $ev->{tid};
    my $ms = $ev->{ts} / 1000;
    if    ($ev->{ph} eq 'M') { $name{$lane} = $ev->{args}{name}; }
    elsif ($ev->{ph} eq 'B') { push @{ $open{$lane} }, [$lane, $ms, undef, $ev->{name}]; }
    elsif ($ev->{ph} eq 'E') { my $s = pop @{ $open{$lane} }; $s->[2] = $ms; push @slices, $s if $s; }
    elsif ($ev->{ph} eq 'i') { push @instants, [$lane, $ms, $ev->{name}]; }
}
if (defined $start) {
    my ($ev) = grep { ($_->{name} // '') eq $start && $_->{ph} ne 'M' } @$events;
    die "trace2dat: $path: no event named $start\n" unless $ev;
    my $ms = $ev->{ts} / 1000;
    $_->[1] -= $ms, $_->[2] -= $ms for @slices;
    $_->[1] -= $ms for @instants;
    $from //= 0;
}
my $lane_name = sub { my $l = shift; return $name{$l} // "lane $l"; };
my $shown = sub {
    my ($lane, $b, $e) = @_;
    return 0 if defined $only && $lane_name->($lane) !~ /$only/;
    return 0 if defined $from && $e < $from;
    return 0 if defined $to && $b > $to;
    return 1;
};
@slices = sort { $a->[1] <=> $b->[1] } grep { $shown->($_->[0], $_->[1], $_->[2]) } @slices;
@instants = grep { $shown->($_->[0], $_->[1], $_->[1]) } @instants;
my (%row, $rows);
$rows = 0;
for my $x (sort { $a->[1] <=> $b->[1] } @slices, @instants) {
    $row{ $x->[0] } //= $rows++;
}
my $t0 = $from // (sort { $a <=> $b } map { $_->[1] } @slices, @instants)[0] // 0;
my $q = sub { (my $s = shift) =~ s/"/'/g; return "\"$s\""; };
for my $s (@slices) {
    printf "%d\t%.4f\t%.4f\t%s\t%s\n", $row{ $s->[0] }, $s->[1] - $t0, $s->[2] - $t0,
        $q->($lane_name->($s->[0])), $q->($s->[3]);
}
print "\n\n";
for my $i (@instants) {
    printf "%d\t%.4f\t%s\t%s\n", $row{ $i->[0] }, $i->[1] - $t0, $q->($lane_name->($i->[0])), $q->($i->[2]);
}
