#!/usr/bin/perl
# linkify.pl html|latex — after pandoc: turns each chunk use inside highlighted
# code, a token ⟨name N:M⟩ (nw2md.pl writes it), into a link to the chunk's
# definition, anchor nw-N-M. Appendix chunks are labelled with a Cyrillic
# letter (А:3) and anchored with the Latin one of the same rank (nw-A-3).
#
# In the LaTeX it also lets long inline code break and centres wide figures
# (see the end).
#
# In the HTML it also wraps each table in a box that scrolls on a narrow
# screen, and letters the appendices: pandoc numbers every chapter,
# so a chapter heading of class "appendix" (nw2md.pl marks them) numbered 12
# becomes «Приложение А», and 12.3 in headings and the contents becomes А.3
# (also in an EPUB's navigation, nav.xhtml and toc.ncx: see epubfix.pl).
#
# The highlighter may have cut the token into several pieces (the label N:M
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

my $CYR = 'АБВГДЕЖИКЛМН';
my $LAT = 'ABCDEFGHIJKL';
sub anchor_of {   # chapter part of a label -> chapter part of an anchor
    my ($n) = @_;
    return $n if $n =~ /^\d+$/;
    my $i = index($CYR, $n);
    return $i < 0 ? undef : substr($LAT, $i, 1);
}
my $LABEL = qr/([0-9]+|[А-Я]):(\d+)/;

sub html_ref {
    my ($inner) = @_;
    (my $plain = $inner) =~ s/<[^>]*>//g;
    my ($n, $m) = $plain =~ /\s$LABEL$/ or return "⟨$inner⟩";
    $n = anchor_of($n) // return "⟨$inner⟩";
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
    my ($n, $m) = $digits =~ /\s$LABEL$/ or return "⟨$inner⟩";
    $n = anchor_of($n) // return "⟨$inner⟩";
    # the token group that holds the closing ⟩: the last one opened inside,
    # or else the one that holds the opening ⟨
    my @toks = $inner =~ /\\([A-Za-z]+Tok)\{/g;
    my ($outer) = $before =~ /.*\\([A-Za-z]+Tok)\{/;
    my $reopen = @toks ? $toks[-1] : ($outer // 'NormalTok');
    return "}\\nwlink{$n}{$m}{\\NormalTok{⟨$plain⟩}}\\$reopen\{";
}

my @lines = <STDIN>;
my %letter;   # HTML: pandoc's number of an appendix chapter -> its letter
if ($mode eq 'html') {
    my $k = 0;
    for (@lines) {
        $letter{$1} //= substr($CYR, $k++, 1)
            while /<h1 [^>]*class="[^"]*\bappendix\b[^"]*"[^>]*data-number="(\d+)"/g;
    }
}
sub html_number {   # "12" or "12.3" of an appendix -> "А" or "А.3"
    my ($n, $rest) = @_;
    return exists $letter{$n} ? "$letter{$n}$rest" : "$n$rest";
}
my %uncovered;   # HTML: lines of the next code block no test runs
for my $line (@lines) {
    if ($mode eq 'html') {
        # nw2md.pl marks a chunk with uncovered="3,5" (make coverage)
        %uncovered = map { $_ => 1 } split /,/, $1 if $line =~ /data-uncovered="([\d,]+)"/;
        $line =~ s{<span id="(cb\d+-(\d+))">}{$uncovered{$2} ? qq{<span id="$1" class="uncovered" title="тесты не выполняют эту строку">} : $&}ge
            if %uncovered;
        %uncovered = () if $line =~ m{</pre>};
        $line =~ s/⟨([^⟨⟩]*?)⟩/html_ref($1)/ge if $line =~ /<span id="cb\d+-\d+">/;
        # a wide table scrolls inside its own box on a narrow screen
        $line =~ s{<table\b}{<div class="table-wrap"><table}g;
        $line =~ s{</table>}{</table></div>}g;
        if (%letter) {
            $line =~ s/(data-number="|(?:header|toc)-section-number">|section-header-number">|<text>)(\d+)((?:\.\d+)*)(?=[\s"<])/$1 . html_number($2, $3)/ge;
            $line =~ s/(<h1 [^>]*\bappendix\b[^>]*><span class="header-section-number">)([А-Я])</$1Приложение $2.</g;
        }
    } elsif ($line =~ /Tok\{/) {
        my $out = '';
        while ($line =~ /\G(.*?)⟨([^⟨⟩]*?)⟩/gc) {
            my ($pre, $inner) = ($1, $2);
            $out .= $pre . latex_ref($out . $pre, $inner);
        }
        $line = $out . substr($line, pos($line) // 0);
    }
}
# LaTeX: inline code may break after / ( , = and after a dot inside a name
# (templates/index.html), so that a long path or call does not stick out of
# the line; TeX would not break \texttt{…} anywhere else.
sub breakable_code {
    my ($code) = @_;
    $code =~ s#([/(,=]|\.(?=[A-Za-z]))(?![)}]|\z)#$1\\allowbreak{}#g;
    return "\\texttt{$code}";
}
if ($mode eq 'latex') {
    my $text = join '', @lines;
    my $arg = qr/(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*/;
    $text =~ s#\\texttt\{($arg)\}#breakable_code($1)#ge;
    # the bibliography is citeproc's text, not the weave's: tie its
    # one-letter words («В Proceedings…») to the next word here
    $text =~ s{(\\begin\{CSLReferences\}.*?\\end\{CSLReferences\})}{
        (my $refs = $1) =~ s/(?<![\p{L}\\])([а-яёА-ЯЁ])[ \n]+(?=\S)/$1~/g;
        $refs
    }gse;
    # a figure wider than the line overhangs both margins alike (header.tex)
    $text =~ s#^(\\includegraphics(?:\[[^\]]*\])?\{[^{}]*\})$#\\makebox[\\linewidth][c]{$1}#gm;
    @lines = ($text);
}
print @lines;
