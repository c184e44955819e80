#!/usr/bin/perl
# tangle.pl — the second half of ./tangle.sh: brings generated/ (and the
# build's copy, --lines DIR) in line with the texts noweb has just tangled.
#
#   tangle.pl write|check LINESDIR TMP
#     TMP/roots      "root<TAB>chapter files", one line per root (nwlint.pl)
#     TMP/new/ROOT   the root as the book gives it (header comment included)
#     TMP/lined/ROOT the same with #line directives (notangle -L), .c/.h only
#     LINESDIR       "" or the build's copy (build/src): each file there and,
#                    beside each .c/.h, its line map ROOT.nwmap — one line per
#                    line of the file, "book/NN-….nw:LINE" or empty
#
# write: rewrites only the files whose text changed, removes files no root
# gives, and refuses to overwrite a generated/ file edited by hand since it
# last wrote it (build/generated.sums): it shows the diff with the chapter
# lines to move the edit to. check: writes nothing, shows the same diff for
# every file that differs from the book; exit status 1 if any.
use strict;
use warnings;
use Digest::SHA qw(sha1_hex);
use File::Find;
use File::Path qw(make_path);
use File::Basename qw(dirname);

my ($mode, $lines, $tmp) = @ARGV;
die "usage: tangle.pl write|check LINESDIR TMP\n" unless $mode && $mode =~ /^(write|check)$/ && defined $tmp;
my $sums_file = 'build/generated.sums';

sub slurp { my ($p) = @_; open my $fh, '<', $p or return undef; local $/; return scalar <$fh>; }
sub spew {
    my ($p, $text) = @_;
    make_path(dirname($p));
    open my $fh, '>', "$p.tmp$$" or die "tangle: $p: $!\n";
    print $fh $text;
    close $fh or die "tangle: $p: $!\n";
    rename "$p.tmp$$", $p or die "tangle: $p: $!\n";
}

# Line map: the #line version has the same lines in the same order, only
# without the indentation of included chunks and with a few blank lines more.
sub line_map {
    my ($lined, $plain) = @_;
    my (@from, $file, $line);
    for (split /\n/, $lined) {
        if (/^#line (\d+) "([^"]+)"$/) { ($file, $line) = ($2, $1); next; }
        push @from, [s/^\s+//r, defined $file ? "$file:" . $line++ : ''];
    }
    my ($i, $n, $map) = (0, 0, '');
    for my $text (split /\n/, $plain) {
        $n++;
        $text =~ s/^\s+//;
        $i++ while $i < @from && $from[$i][0] eq '' && $text ne '';
        if ($i < @from && $from[$i][0] eq $text) { $map .= $from[$i++][1] . "\n"; next; }
        die "tangle: строка $n не найдена в тексте с #line\n" if $text ne '';
        $map .= "\n";
    }
    return $map;
}

# the diff of generated/ROOT against the book's text, and where each change
# lives in the book
sub show_diff {
    my ($root, $map) = @_;
    system('sh', '-c', 'diff -u --label "$1 (сейчас)" --label "$1 (из книги)" "$1" "$2" | head -60 >&2',
           'sh', "generated/$root", "$tmp/new/$root");
    my @map = split /\n/, $map // '', -1;
    open my $d, '-|', 'diff', "generated/$root", "$tmp/new/$root" or return;
    while (<$d>) {
        next unless /^[\d,]+[acd](\d+)/;
        my $where = $map[$1 - 1] // '';
        print STDERR "  $where (строка $1 файла из книги)\n" if $where ne '';
    }
}

my %recorded;
if ($mode eq 'write' && open my $fh, '<', $sums_file) {
    while (<$fh>) { $recorded{$2} = $1 if /^([0-9a-f]{40})  (.*)$/; }
}

my ($status, %produced, @sums) = (0);
open my $roots, '<', "$tmp/roots" or die "tangle: $tmp/roots: $!\n";
while (<$roots>) {
    chomp;
    my ($root, $files) = split /\t/;
    $produced{$root} = 1;
    my $new = slurp("$tmp/new/$root") // die "tangle: нет $tmp/new/$root\n";
    my $target = slurp("generated/$root");
    my $map;
    if ($root =~ /\.[ch]$/ && ($lines ne '' || !defined $target || $target ne $new)) {
        $map = line_map(slurp("$tmp/lined/$root") // die("tangle: нет $tmp/lined/$root\n"), $new);
    }
    if ($lines ne '') {
        my $copy = slurp("$lines/$root");
        spew("$lines/$root", $new) unless defined $copy && $copy eq $new;
        if (defined $map) {
            my $old = slurp("$lines/$root.nwmap");
            spew("$lines/$root.nwmap", $map) unless defined $old && $old eq $map;
        }
    }
    push @sums, sha1_hex($new) . "  $root\n";
    next if defined $target && $target eq $new;
    if ($mode eq 'check') {
        print STDERR defined $target
            ? "generated/$root расходится с книгой ($files):\n"
            : "generated/$root нет, а книга его даёт ($files)\n";
        show_diff($root, $map) if defined $target;
        print STDERR "Перенесите правку в главу, на строки, названные выше: ./tangle.sh перепишет generated/$root из книги.\n"
            if defined $target;
        $status = 1;
        next;
    }
    if (defined $target && $recorded{$root} && $recorded{$root} ne sha1_hex($target)) {
        print STDERR "generated/$root правили руками после прошлого ./tangle.sh:\n";
        show_diff($root, $map);
        print STDERR "Перенесите правку в главу, на строки, названные выше, затем: ",
            "git checkout generated/$root && ./tangle.sh (он не перезаписывает ручную правку)\n";
        exit 1;
    }
    spew("generated/$root", $new);
    print STDERR "tangle: generated/$root\n";
}
if ($mode eq 'write') {
    spew($sums_file, join '', sort @sums);
}

# files that no root gives
for my $out ('generated', $lines ne '' ? $lines : ()) {
    next unless -d $out;
    my @stale;
    find({ no_chdir => 1, wanted => sub {
        return unless -f $_ && !-l $_ && /\.(?:c|h|html)$/;
        (my $rel = $File::Find::name) =~ s{^\Q$out\E/}{};
        push @stale, $rel unless $produced{$rel} || $rel =~ m{^chapters/};
    } }, $out);
    for my $f (sort @stale) {
        if ($mode eq 'check') {
            print STDERR "$out/$f не извлекается ни из одного корневого фрагмента книги\n";
            $status = 1;
        } else {
            unlink "$out/$f", "$out/$f.nwmap";
            print STDERR "tangle: удалён $out/$f (его больше нет в книге)\n" if $out eq 'generated';
        }
    }
    if ($mode eq 'write') {
        finddepth({ no_chdir => 1, wanted => sub { rmdir $_ if -d $_ && !-l $_ && $_ ne $out } }, $out);
    }
}
exit $status;
