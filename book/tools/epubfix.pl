#!/usr/bin/perl
# epubfix.pl IN.epub OUT.epub — what linkify.pl does for the HTML, done for
# pandoc's EPUB: the appendices lettered (А, Б instead of 12, 13, also in the
# navigation) and every chunk use inside code a link to the chunk, across
# the EPUB's files. The archive is written again: mimetype first and stored,
# as EPUB requires, the rest deflated.
use strict;
use warnings;
use utf8;
use Encode qw(decode encode);
use File::Basename qw(dirname);
use File::Temp qw(tempfile);
use IO::Compress::Zip qw($ZipError :zip_method);
use IO::Uncompress::Unzip qw($UnzipError);

my ($in, $out) = @ARGV;
die "usage: epubfix.pl IN.epub OUT.epub\n" unless defined $out;

my @members;
my $u = IO::Uncompress::Unzip->new($in) or die "epubfix: $in: $UnzipError\n";
for (my $status = 1; $status > 0; $status = $u->nextStream) {
    my ($data, $buf) = ('', '');
    my $r;
    $data .= $buf while ($r = $u->read($buf)) > 0;
    die "epubfix: $in: $UnzipError\n" if $r < 0;
    push @members, [$u->getHeaderInfo->{Name}, $data];
}
$u->close;

# the text files go through linkify.pl html as one stream, each behind a
# line naming it, so that the appendices' numbers are known in every file
my @text = grep { $_->[0] =~ /\.(?:xhtml|ncx)$/ } @members;
my ($fh, $stream) = tempfile(UNLINK => 1);
binmode $fh, ':utf8';
print $fh "\x{1}FILE $_->[0]\n", decode('UTF-8', $_->[1]), ($_->[1] =~ /\n\z/ ? '' : "\n") for @text;
close $fh;
open my $lk, '-|:utf8', 'sh', '-c', 'exec perl "$1" html <"$2"', 'sh', dirname($0) . '/linkify.pl', $stream
    or die "epubfix: linkify.pl: $!\n";
my (%new, $name);
while (<$lk>) {
    if (/^\x{1}FILE (.*)$/) { $name = $1; $new{$name} = ''; next; }
    $new{$name} .= $_;
}
close $lk or die "epubfix: linkify.pl failed\n";

# a link to a chunk points into the file that holds it
my %file_of;
for my $f (keys %new) {
    $file_of{$1} = $f while $new{$f} =~ /\bid="(nw-[0-9A-Z]+-\d+)"/g;
}
for my $f (keys %new) {
    my $dir = dirname($f);
    $new{$f} =~ s{class="nwref" href="#(nw-[0-9A-Z]+-\d+)"}{
        my $id = $1;
        my $target = $file_of{$id} // die "epubfix: нет фрагмента #$id\n";
        my $rel = $target eq $f ? '' : ($target =~ s{^\Q$dir\E/}{}r);
        qq{class="nwref" href="$rel#$id"}
    }ge;
    # linkify.pl boxes tables for narrow screens; a reader scrolls the page
    $new{$f} =~ s{<div class="table-wrap">(<table\b.*?</table>)</div>}{$1}gs;
}

my $z = IO::Compress::Zip->new($out, Name => 'mimetype', Method => ZIP_CM_STORE, Minimal => 1)
    or die "epubfix: $out: $ZipError\n";
my $first = 1;
for my $m (sort { ($b->[0] eq 'mimetype') <=> ($a->[0] eq 'mimetype') } @members) {
    my $data = exists $new{ $m->[0] } ? encode('UTF-8', $new{ $m->[0] }) : $m->[1];
    if ($first) {
        die "epubfix: первым в архиве должен быть mimetype\n" unless $m->[0] eq 'mimetype';
        $first = 0;
    } else {
        $z->newStream(Name => $m->[0], Method => ZIP_CM_DEFLATE, Minimal => 1) or die "epubfix: $ZipError\n";
    }
    $z->print($data);
}
$z->close or die "epubfix: $out: $ZipError\n";
