#!/usr/bin/perl
# linkify.pl html|latex — after pandoc: turns each chunk use inside highlighted
# code, a token ⟨name N.M⟩ (nw2md.pl writes it), into a link to the chunk's
# definition, anchor nw-N-M.
#
# The highlighter may have cut the token into several pieces (the label N.M
# is a number to a C lexer), so the piece of line from ⟨ to ⟩ is replaced as
# a whole: the markup inside it is dropped, the markup groups it closes are
# closed before the link and the ones it opens are reopened after it, so the
# line stays well formed.
use strict;
use warnings;
use utf8;
binmode STDIN, ':utf8'; binmode STDOUT, ':utf8';

my $mode = shift // '';
die "usage: linkify.pl html|latex\n" unless $mode =~ /^(html|latex)$/;

sub html_ref {
    my ($inner) = @_;
    (my $plain = $inner) =~ s/<[^>]*>//g;
    my ($n, $m) = $plain =~ /\s(\d+)\.(\d+)$/ or return "⟨$inner⟩";
    my (@closed, @open);
    for my $tag ($inner =~ /(<\/?span[^>]*>)/g) {
        if ($tag =~ /^<\//) { if (@open) { pop @open } else { push @closed, $tag } }
        else { push @open, $tag }
    }
    return join('', @closed) . qq{<a class="nwref" href="#nw-$n-$m">⟨$plain⟩</a>} . join('', @open);
}

sub latex_ref {
    my ($before, $inner) = @_;
    # drop the token macros and bare braces ({-} and the like), keep escapes
    # such as \_ or \{ and brace-less commands such as \textless{}
    (my $plain = $inner) =~ s/\\[A-Za-z]+Tok\{//g;
    $plain =~ s/\\([{}])/\x01$1/g;
    $plain =~ s/(\\[A-Za-z]+)\{\}/$1\x02/g;
    $plain =~ s/[{}]//g;
    $plain =~ s/\x01/\\/g;
    $plain =~ s/\x02/{}/g;
    (my $digits = $plain) =~ s/\\[A-Za-z]+\{\}//g;
    my ($n, $m) = $digits =~ /\s(\d+)\.(\d+)$/ or return "⟨$inner⟩";
    # the token group that holds the closing ⟩: the last one opened inside,
    # or else the one that holds the opening ⟨
    my @toks = $inner =~ /\\([A-Za-z]+Tok)\{/g;
    my ($outer) = $before =~ /.*\\([A-Za-z]+Tok)\{/;
    my $reopen = @toks ? $toks[-1] : ($outer // 'NormalTok');
    return "}\\hyperlink{nw-$n-$m}{\\NormalTok{⟨$plain⟩}}\\$reopen\{";
}

while (my $line = <STDIN>) {
    if ($mode eq 'html') {
        $line =~ s/⟨([^⟨⟩]*?)⟩/html_ref($1)/ge if $line =~ /<span id="cb\d+-\d+">/;
    } elsif ($line =~ /Tok\{/) {
        my $out = '';
        while ($line =~ /\G(.*?)⟨([^⟨⟩]*?)⟩/gc) {
            my ($pre, $inner) = ($1, $2);
            $out .= $pre . latex_ref($out . $pre, $inner);
        }
        $line = $out . substr($line, pos($line) // 0);
    }
    print $line;
}
