#!/usr/bin/perl
# nwlint.pl — reads noweb's markup stream of all chapters (markup book/*.nw)
# and checks the web as a whole: every used chunk is defined, every root is a
# path under generated/ (a misspelt chunk name shows up as a stray root), no
# chunk name holds characters that upset the C highlighter of the weave.
# On success it prints one line per root: "path<TAB>chapter files", the files
# whose chunks the root pulls in, for the header comment of generated files.
# Exit status 1 and "file:line: message" lines on stderr otherwise.
use strict;
use warnings;
use utf8;
binmode STDIN, ':utf8'; binmode STDOUT, ':utf8'; binmode STDERR, ':utf8';

my ($file, $line) = ('', 1);
my (%defined_at, %def_files, %used_at, %uses_of, $current);
my @errors;
while (<STDIN>) {
    chomp;
    if    (/^\@file (.*)$/)   { $file = $1; $line = 1; }
    elsif (/^\@(?:index )?nl$/) { $line++; }
    elsif (/^\@begin code/)   { $current = undef; }
    elsif (/^\@defn (.*)$/)   {
        $current = $1;
        $defined_at{$1} //= "$file:$line";
        $def_files{$1}{$file} = 1;
    }
    elsif (/^\@use (.*)$/)    {
        $used_at{$1} //= "$file:$line";
        $uses_of{$current}{$1} = 1 if defined $current;
    }
}

my $path_re = qr{^(?:\d\d-[a-z0-9-]+|[a-z][a-z0-9-]*)(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+\.(?:c|h|html)$};
for my $name (sort keys %used_at) {
    push @errors, "$used_at{$name}: фрагмент ⟨$name⟩ используется, но нигде не определён"
        unless exists $defined_at{$name};
}
my @roots = grep { !exists $used_at{$_} } sort keys %defined_at;
for my $name (@roots) {
    next if $name =~ $path_re;
    push @errors, "$defined_at{$name}: корневой фрагмент ⟨$name⟩ не является путём "
        . "вида lib/x.c, NN-глава/x.c или приложение/x.c: опечатка в имени или фрагмент нигде не используется";
}
for my $name (sort keys %defined_at) {
    next if $name =~ $path_re;
    push @errors, "$defined_at{$name}: в имени фрагмента ⟨$name⟩ есть кавычка, // или /*; "
        . "подсветка C в книге разорвёт его" if $name =~ m{["']|//|/\*};
}
if (@errors) { print STDERR "$_\n" for @errors; exit 1; }

for my $root (grep { $_ =~ $path_re } @roots) {
    my (%seen, %files);
    my @todo = ($root);
    while (defined(my $c = shift @todo)) {
        next if $seen{$c}++;
        $files{$_} = 1 for keys %{ $def_files{$c} };
        push @todo, keys %{ $uses_of{$c} || {} };
    }
    print "$root\t", join(' ', sort keys %files), "\n";
}
