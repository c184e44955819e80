#!/usr/bin/perl
# webbook.pl OUTDIR — the web edition: one HTML page per chapter.
#
# Reads the whole book as one HTML page (pandoc -s --section-divs, after
# linkify.pl) and cuts it at the chapters (top-level <section>s): OUTDIR/
# index.html holds the title and the contents, each chapter, appendix and
# index gets its own page named after its anchor (ch-select.html). Every page
# has the contents at hand (a sidebar on a wide screen, a folding list on a
# narrow one), links to the previous and the next page, and the styles of
# the book (book.css beside it, pandoc's own styles inline); a link to an
# anchor on another page is rewritten to that page. Nothing is loaded from
# the network: figures are files in OUTDIR/figures/.
use strict;
use warnings;
use utf8;
binmode STDIN, ':utf8'; binmode STDOUT, ':utf8';

my $outdir = shift or die "usage: webbook.pl OUTDIR <book.html\n";
my $html = do { local $/; <STDIN> };

my ($style) = $html =~ m{(<style>.*?</style>)}s;
$style //= '';
my ($book_title) = $html =~ m{<title>(.*?)</title>}s;
my ($header) = $html =~ m{(<header id="title-block-header">.*?</header>)}s
    or die "webbook: нет титула (header#title-block-header)\n";
my ($toc) = $html =~ m{<nav id="TOC"[^>]*>\s*(.*?)\s*</nav>}s or die "webbook: нет оглавления (nav#TOC)\n";
$toc =~ s{<h2 id="toc-title">.*?</h2>\s*}{}s;   # each page gives the contents its own heading
my ($body) = $html =~ m{</nav>\s*(.*)</body>}s or die "webbook: нет тела книги\n";

# top-level sections: the pages
my @pages;
{
    my ($depth, $start) = (0, 0);
    while ($body =~ m{(<section\b[^>]*>)|(</section>)}g) {
        if (defined $1) {
            $start = $-[0] if $depth == 0;
            $depth++;
        } else {
            $depth--;
            next if $depth;
            my $text = substr($body, $start, $+[0] - $start);
            my ($id) = $text =~ /^<section id="([^"]+)"/ or die "webbook: глава без id\n";
            my ($h1) = $text =~ m{<h1\b[^>]*>(.*?)</h1>}s;
            (my $title = $h1 // $id) =~ s/<[^>]*>//g;
            $title =~ s/\s+/ /g;
            push @pages, { id => $id, file => "$id.html", text => $text, title => $title };
        }
    }
}
die "webbook: в книге не найдено ни одной главы\n" unless @pages;
unshift @pages, { id => '', file => 'index.html', title => $book_title,
                  text => "$header\n<nav class=\"toc-full\" aria-label=\"Оглавление\">\n<h2>Оглавление</h2>\n$toc\n</nav>\n" };

# where every anchor lives
my %page_of;
for my $p (@pages) {
    $page_of{$1} = $p->{file} while $p->{text} =~ /\bid="([^"]+)"/g;
}
sub relink {
    my ($text, $here) = @_;
    $text =~ s{href="#([^"]+)"}{
        my $file = $page_of{$1};
        die "webbook: ссылка на несуществующий якорь #$1\n" unless $file;
        $file eq $here ? qq{href="#$1"} : qq{href="$file#$1"}
    }ge;
    return $text;
}

# the contents for a page: every chapter; the current one marked, so that
# book.css unfolds the list of its sections
sub contents {
    my ($here, $id) = @_;
    my $list = relink($toc, $here);
    $list =~ s{<li><a href="#\Q$id\E"}{<li class="current"><a href="#$id"} if $id ne '';
    return $list;
}

sub esc { my ($s) = @_; $s =~ s/&/&amp;/g; $s =~ s/</&lt;/g; $s =~ s/>/&gt;/g; $s =~ s/"/&quot;/g; return $s; }
for my $i (0 .. $#pages) {
    my $p = $pages[$i];
    my ($prev, $next) = ($i > 0 ? $pages[$i - 1] : undef, $i < $#pages ? $pages[$i + 1] : undef);
    my $nav = qq{<nav class="pager" aria-label="Соседние страницы">}
        . ($prev ? qq{<a class="prev" rel="prev" href="$prev->{file}">← } . esc($prev->{title}) . '</a>' : '<span></span>')
        . ($next ? qq{<a class="next" rel="next" href="$next->{file}">} . esc($next->{title}) . ' →</a>' : '<span></span>')
        . "</nav>\n";
    my $contents = contents($p->{file}, $p->{id});
    my $title = $p->{file} eq 'index.html' ? $book_title : "$p->{title} — $book_title";
    my $main = relink($p->{text}, $p->{file});
    open my $fh, '>:utf8', "$outdir/$p->{file}" or die "webbook: $outdir/$p->{file}: $!\n";
    print $fh <<"PAGE";
<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${\ esc($title)}</title>
$style
<link rel="stylesheet" href="book.css">
</head>
<body class="web">
<nav class="toc-side" aria-label="Оглавление">
<p class="toc-book"><a href="index.html">${\ esc($book_title)}</a></p>
$contents
</nav>
<div class="page">
<details class="toc-top"><summary>Оглавление</summary>
<p class="toc-book"><a href="index.html">${\ esc($book_title)}</a></p>
$contents
</details>
$nav<main>
$main
</main>
$nav</div>
</body>
</html>
PAGE
    close $fh;
}
