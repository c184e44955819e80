/* tests/test_http_differential.c — our HTTP servers against nginx.
 *
 * Request smuggling lives in the gap between two parsers that frame the
 * same bytes differently. So the oracle here is another server: nginx (the
 * Debian package nginx-light, which the Makefile installs with the test
 * packages), started by this test on a loopback port with a config the test
 * writes, and stopped at the end. Every case of the table — request lines,
 * header fields, Content-Length and Transfer-Encoding in all the classic
 * smuggling shapes (CL.TE, TE.CL, TE.TE, duplicate lengths), obs-fold, NUL,
 * bare CR and LF, overlong lines and heads, pipelined bodies — is sent, then
 * our side of the connection is shut (EOF), to nginx and to each of our
 * three servers: chapter 1's blocking web app, chapter 10's web app on the
 * loop, chapter 11's image server. What is compared is the framing: how many
 * responses came and the class (1st digit) of each, e.g. "24" for a 200
 * followed by a 4xx and close.
 *
 * Where we deliberately differ from nginx, the table gives our expected
 * classes and says why — and the test checks that nginx really does
 * something else, so that a stale excuse fails too. Chapter 1's server
 * answers one request per connection: only its first response is compared,
 * and a head cut short by EOF gets its 400 where nginx says nothing.
 *
 * Paths: "@" in a request line stands for a page that exists ("/" for the
 * web apps, "/stats" for the image server; nginx has all of them), "@b" for
 * a second one ("/blog", "/stats"). Bodies never hold "@". */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

/* ------------------------------------------------------------ the table */

struct dcase {
    const char *name;
    const char *bytes;   /* NUL-free unless len says otherwise */
    size_t len;          /* 0: strlen(bytes) */
    const char *ours;    /* NULL: same as nginx; else our classes... */
    const char *why;     /* ...and why we differ */
};

#define H "Host: x\r\n"
#define G1 "GET @ HTTP/1.1\r\n" H
#define NEXT "GET @b HTTP/1.1\r\n" H "\r\n"
#define C(name, bytes) {name, bytes, 0, NULL, NULL}
#define D(name, bytes, ours, why) {name, bytes, 0, ours, why}
#define CN(name, bytes) {name, bytes, sizeof bytes - 1, NULL, NULL}
#define DN(name, bytes, ours, why) {name, bytes, sizeof bytes - 1, ours, why}

static const char STRICT_SP[] = "RFC 9112 section 3: one SP between the parts of the "
                                "request line; nginx tolerates more, we do not";
static const char BODY_FIRST[] = "we read the whole body before answering; nginx answers "
                                 "at once and discards the body later, so an unfinished "
                                 "body still gets its reply";
static const char HEAD_8K[] = "our head limit is 8 KiB in all (431); nginx takes up to "
                              "4 buffers of 8 KiB";
static const char LINE_4K[] = "our limit for one header line is 4 KiB (431); nginx's is 8 KiB";
static const char TE_NOT_LAST[] = "RFC 9112 section 6.3: chunked not the final coding "
                                  "is 400 and close; nginx says 501";
static const char NO_09[] = "nginx takes METHOD TARGET without a version for HTTP/0.9 and "
                            "answers with a bare body; we do not speak 0.9: 400";
static const char METHOD_501[] = "RFC 9112 section 3: a method longer than any we know "
                                 "gets 501; nginx says 400";
static const char VERSION_505[] = "HTTP/0.9 written as a version: we say 505 (major "
                                  "version other than 1), nginx 400";
static const char ONE_DIGIT[] = "RFC 9112 section 2.3: HTTP-version is HTTP/DIGIT.DIGIT; "
                                "nginx reads several digits";
static const char SCHEMES[] = "absolute-form is for http and https URIs (RFC 9112 section "
                              "3.2.2); nginx takes any scheme";
static const char BAD_NAME[] = "nginx skips header lines with invalid names "
                               "(ignore_invalid_headers); a line one server skips and "
                               "another reads is how smuggling starts, so we refuse it";
static const char VALUE_CTL[] = "we refuse every control byte in a field value; nginx "
                                "refuses only NUL, CR and LF";
static const char CLOSE_TOKEN[] = "Connection is a list of tokens (RFC 9110 section 7.6.1): "
                                  "closed is not close; nginx looks for the substring close";
static const char CHUNK_LIMIT[] = "a chunk past our 1 MiB body limit is refused (413) "
                                  "before we answer; nginx answers first, reads later";
static const char CHUNK_BWS[] = "RFC 9112 section 7.1.1: after a chunk size only "
                                "whitespace and ';' may come; nginx skips anything";
static const char TE_CODINGS[] = "a Transfer-Encoding whose last coding is not a single "
                                 "chunked cannot be framed: RFC 9112 section 6.3 says 400 "
                                 "and close; nginx says 501 for codings it does not know";
static const char CL_TE_FIRST[] = "Content-Length and Transfer-Encoding together: we say "
                                  "400 before looking at the codings; nginx says 501 first";
static const char TARGET_2K[] = "our target limit is 2 KiB: 414 and close; nginx keeps "
                                "8 KiB and answers 404 to this path";
static const char EMPTY_ELEMENTS[] = "RFC 9110 section 5.6.1: empty list elements are "
                                     "ignored, so this is chunked; nginx compares the "
                                     "whole value with chunked and says 501";
static const char TRAILERS[] = "we check trailer lines like header lines; nginx skips "
                               "trailers unread";
static const char EMPTY_HOST[] = "RFC 9112 section 3.2 allows an empty Host (a URI without "
                                 "authority); nginx refuses it";
static const char EMPTY_LINES[] = "nginx drops the connection on a stream of empty lines "
                                  "before the request line; we skip them until the head "
                                  "limit, then 431";

static const struct dcase table[] = {
    /* --- ordinary requests */
    C("get", G1 "\r\n"),
    C("get-blog", "GET @b HTTP/1.1\r\n" H "\r\n"),
    C("get-404", "GET /nope HTTP/1.1\r\n" H "\r\n"),
    C("get-query", "GET @?a=1&b=2 HTTP/1.1\r\n" H "\r\n"),
    C("head", "HEAD @ HTTP/1.1\r\n" H "\r\n"),
    C("head-then-get", "HEAD @ HTTP/1.1\r\n" H "\r\n" NEXT),
    C("head-404", "HEAD /nope HTTP/1.1\r\n" H "\r\n"),
    C("post-no-body", "POST @ HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n"),
    C("post-body", "POST @ HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello"),
    C("post-body-next", "POST @ HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello" NEXT),
    C("put-next", "PUT @ HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc" NEXT),
    C("delete", "DELETE @ HTTP/1.1\r\n" H "\r\n"),
    C("delete-next", "DELETE @ HTTP/1.1\r\n" H "\r\n" NEXT),
    C("http10", "GET @ HTTP/1.0\r\n\r\n"),
    C("http10-host", "GET @ HTTP/1.0\r\n" H "\r\n"),
    C("http10-keepalive-next", "GET @ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" NEXT),
    C("http10-next", "GET @ HTTP/1.0\r\n\r\n" NEXT),
    C("http19", "GET @ HTTP/1.9\r\n" H "\r\n"),
    C("two-pipelined", G1 "\r\n" NEXT),
    C("three-pipelined", G1 "\r\n" NEXT NEXT),
    C("ten-pipelined", G1 "\r\n" NEXT NEXT NEXT NEXT NEXT NEXT NEXT NEXT NEXT),
    C("close-then-more", G1 "Connection: close\r\n\r\n" NEXT),
    C("absolute-form", "GET http://x@b HTTP/1.1\r\n" H "\r\n"),
    C("absolute-form-next", "GET http://x@ HTTP/1.1\r\n" H "\r\n" NEXT),
    C("absolute-https", "GET https://x:443@ HTTP/1.1\r\n" H "\r\n"),
    C("leading-crlf", "\r\n" G1 "\r\n"),
    C("leading-lf", "\n" G1 "\r\n"),
    C("leading-2crlf", "\r\n\r\n" G1 "\r\n"),
    C("bare-lf", "GET @ HTTP/1.1\nHost: x\n\n"),
    C("bare-lf-next", "GET @ HTTP/1.1\nHost: x\n\n" NEXT),
    C("mixed-lf", "GET @ HTTP/1.1\r\nHost: x\n\r\n"),
    C("empty-value", G1 "X-Empty:\r\n\r\n"),
    C("value-tabs", G1 "X-Tab:\t a\tb \t\r\n\r\n"),
    C("value-high-bytes", G1 "X-Utf8: \xc3\xa9\xc3\xa8\r\n\r\n"),
    C("many-fields", G1 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n"),
    C("lower-host", "GET @ HTTP/1.1\r\nhost: x\r\n\r\n"),
    C("host-with-port", "GET @ HTTP/1.1\r\nHost: x:8080\r\n\r\n"),
    /* --- request lines nobody should accept */
    C("empty-then-eof", ""),
    C("one-word", "GET\r\n\r\n"),
    D("two-words", "GET @\r\n" H "\r\n",
      "4", NO_09),
    C("four-words", "GET @ HTTP/1.1 x\r\n" H "\r\n"),
    C("method-at", "G@T @ HTTP/1.1\r\n" H "\r\n"),
    C("method-paren", "GE(T @ HTTP/1.1\r\n" H "\r\n"),
    C("lower-get", "get @ HTTP/1.1\r\n" H "\r\n"),
    D("long-method", "GETGETGETGETGETGETGETGETGETGETGETGET @ HTTP/1.1\r\n" H "\r\n",
      "5", METHOD_501),
    C("target-relative", "GET blog HTTP/1.1\r\n" H "\r\n"),
    C("target-star", "OPTIONS * HTTP/1.1\r\n" H "\r\n"),
    D("target-ftp", "GET ftp://x/ HTTP/1.1\r\n" H "\r\n",
      "4", SCHEMES),
    CN("target-nul", "GET /\0x HTTP/1.1\r\n" H "\r\n"),
    C("target-tab", "GET /\tx HTTP/1.1\r\n" H "\r\n"),
    C("target-del", "GET /\x7f HTTP/1.1\r\n" H "\r\n"),
    C("target-ctl", "GET /\x01 HTTP/1.1\r\n" H "\r\n"),
    C("version-2", "GET @ HTTP/2.0\r\n" H "\r\n"),
    D("version-09", "GET @ HTTP/0.9\r\n" H "\r\n",
      "5", VERSION_505),
    C("version-3", "GET @ HTTP/3.0\r\n" H "\r\n"),
    C("version-short", "GET @ HTTP/1\r\n" H "\r\n"),
    C("version-lower", "GET @ http/1.1\r\n" H "\r\n"),
    C("version-x", "GET @ HTTP/1.x\r\n" H "\r\n"),
    C("version-ftp", "GET @ FTP/1.1\r\n" H "\r\n"),
    D("version-11-long", "GET @ HTTP/1.11\r\n" H "\r\n",
      "4", ONE_DIGIT),
    D("double-space", "GET  @ HTTP/1.1\r\n" H "\r\n", "4", STRICT_SP),
    D("trailing-space", "GET @ HTTP/1.1 \r\n" H "\r\n", "4", STRICT_SP),
    C("leading-space", " GET @ HTTP/1.1\r\n" H "\r\n"),
    C("tls-hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    C("binary", "\x80\x81\x82\xff\xfe\r\n\r\n"),
    CN("nul-first", "\0GET @ HTTP/1.1\r\n" H "\r\n"),
    C("bare-cr-line", "GET @ HTTP/1.1\r" H "\r\n"),
    C("cr-cr-lf", "GET @ HTTP/1.1\r\r\n" H "\r\n"),
    C("unfinished-line", "GET @ HTTP/1.1"),
    C("unfinished-head", G1),
    C("unfinished-field", G1 "X-A: b"),
    /* --- Host */
    C("no-host", "GET @ HTTP/1.1\r\n\r\n"),
    C("no-host-next", "GET @ HTTP/1.1\r\n\r\n" NEXT),
    C("two-hosts", G1 H "\r\n"),
    C("two-hosts-differ", G1 "Host: y\r\n\r\n"),
    /* --- header fields */
    C("space-before-colon", G1 "X-A : b\r\n\r\n"),
    C("tab-before-colon", G1 "X-A\t: b\r\n\r\n"),
    C("no-colon", G1 "X-A b\r\n\r\n"),
    C("empty-name", G1 ": b\r\n\r\n"),
    D("name-bad-char", G1 "X(A): b\r\n\r\n",
      "4", BAD_NAME),
    C("obs-fold", G1 "X-A: b\r\n c\r\n\r\n"),
    C("obs-fold-tab", G1 "X-A: b\r\n\tc\r\n\r\n"),
    C("first-field-folded", "GET @ HTTP/1.1\r\n " H "\r\n"),
    CN("value-nul", G1 "X-A: b\0c\r\n\r\n"),
    C("value-bare-cr", G1 "X-A: b\rc\r\n\r\n"),
    D("value-ctl", G1 "X-A: b\x01\r\n\r\n",
      "4", VALUE_CTL),
    D("value-del", G1 "X-A: b\x7f\r\n\r\n",
      "4", VALUE_CTL),
    C("cr-end-of-head", G1 "\r"),
    C("bare-cr-end", G1 "\rX\r\n\r\n"),
    /* --- Connection */
    C("conn-close", G1 "Connection: close\r\n\r\n" NEXT),
    C("conn-close-upper", G1 "Connection: CLOSE\r\n\r\n" NEXT),
    C("conn-te-close", G1 "Connection: TE, close\r\n\r\n" NEXT),
    C("conn-close-te", G1 "Connection: close, TE\r\n\r\n" NEXT),
    C("conn-tab-close", G1 "Connection:\tclose\r\n\r\n" NEXT),
    C("conn-close-tab", G1 "Connection: close\t\r\n\r\n" NEXT),
    C("conn-keepalive", G1 "Connection: keep-alive\r\n\r\n" NEXT),
    C("conn-two-lines", G1 "Connection: keep-alive\r\nConnection: close\r\n\r\n" NEXT),
    D("conn-closed", G1 "Connection: closed\r\n\r\n" NEXT,
      "22", CLOSE_TOKEN),
    C("conn-commas", G1 "Connection: ,, close ,\r\n\r\n" NEXT),
    /* --- Content-Length */
    C("cl-zero", G1 "Content-Length: 0\r\n\r\n" NEXT),
    C("cl-leading-zeros", G1 "Content-Length: 0003\r\n\r\nabc" NEXT),
    C("cl-body-is-request", G1 "Content-Length: 31\r\n\r\n" "GET /blog HTTP/1.1\r\nHost: x\r\n\r\n"),
    C("cl-body-is-request-next", G1 "Content-Length: 28\r\n\r\n" "GET /x HTTP/1.1\r\nHost: x\r\n\r\n" NEXT),
    C("cl-post-body-is-request", "POST @ HTTP/1.1\r\n" H "Content-Length: 31\r\n\r\n"
                                 "GET /blog HTTP/1.1\r\nHost: x\r\n\r\n"),
    C("cl-dup-same", G1 "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc" NEXT),
    C("cl-dup-differ", G1 "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd" NEXT),
    C("cl-list-same", G1 "Content-Length: 3, 3\r\n\r\nabc" NEXT),
    C("cl-list-differ", G1 "Content-Length: 3, 4\r\n\r\nabcd" NEXT),
    C("cl-negative", G1 "Content-Length: -1\r\n\r\n" NEXT),
    C("cl-plus", G1 "Content-Length: +3\r\n\r\nabc" NEXT),
    C("cl-hex", G1 "Content-Length: 0x3\r\n\r\nabc" NEXT),
    C("cl-empty", G1 "Content-Length:\r\n\r\n" NEXT),
    C("cl-space-inside", G1 "Content-Length: 1 2\r\n\r\n" NEXT),
    C("cl-letters", G1 "Content-Length: abc\r\n\r\n" NEXT),
    C("cl-overflow", G1 "Content-Length: 99999999999999999999999\r\n\r\n" NEXT),
    C("cl-2p64plus1", G1 "Content-Length: 18446744073709551617\r\n\r\n" NEXT),
    C("cl-too-big", G1 "Content-Length: 2000000\r\n\r\n"),
    C("cl-trailing-space", G1 "Content-Length: 3 \r\n\r\nabc" NEXT),
    C("cl-folded", G1 "Content-Length: 3\r\n 4\r\n\r\nabc" NEXT),
    C("cl-space-before-colon", G1 "Content-Length : 3\r\n\r\nabc" NEXT),
    C("cl-lower", G1 "content-length: 3\r\n\r\nabc" NEXT),
    D("cl-short-body", G1 "Content-Length: 10\r\n\r\nabc", "", BODY_FIRST),
    D("cl-post-short-body", "POST @ HTTP/1.1\r\n" H "Content-Length: 10\r\n\r\nabc", "",
      BODY_FIRST),
    C("cl-http10-body-next", "POST @ HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive"
                             "\r\n\r\nabc" NEXT),
    /* --- Transfer-Encoding: chunked */
    C("te-chunked", G1 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" NEXT),
    C("te-chunked-upper", G1 "Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n" NEXT),
    C("te-chunked-post", "POST @ HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-two-chunks", G1 "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" NEXT),
    C("te-body-is-request", G1 "Transfer-Encoding: chunked\r\n\r\n1f\r\n"
                            "GET /blog HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"),
    C("te-body-is-request-next", G1 "Transfer-Encoding: chunked\r\n\r\n1f\r\n"
                                 "GET /blog HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n" NEXT),
    C("te-chunk-ext", G1 "Transfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-chunk-ext-quoted", G1 "Transfer-Encoding: chunked\r\n\r\n3;a=\"b c\"\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-chunk-ext-bws", G1 "Transfer-Encoding: chunked\r\n\r\n3 ;a\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-trailer", G1 "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: v\r\n\r\n" NEXT),
    C("te-upper-hex", G1 "Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n" NEXT),
    C("te-leading-zeros", G1 "Transfer-Encoding: chunked\r\n\r\n0003\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-bare-lf", G1 "Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n" NEXT),
    C("te-size-bad", G1 "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-size-negative", G1 "Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-size-0x", G1 "Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-size-empty", G1 "Transfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n" NEXT),
    C("te-size-overflow", G1 "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n" NEXT),
    D("te-size-too-big", G1 "Transfer-Encoding: chunked\r\n\r\n200000\r\n" NEXT,
      "4", CHUNK_LIMIT),
    C("te-data-too-long", G1 "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n" NEXT),
    C("te-data-short", G1 "Transfer-Encoding: chunked\r\n\r\n5\r\nabc\r\n0\r\n\r\n" NEXT),
    D("te-size-space-junk", G1 "Transfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n" NEXT,
      "4", CHUNK_BWS),
    C("te-bare-cr-size", G1 "Transfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n" NEXT),
    D("te-unfinished", G1 "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "", BODY_FIRST),
    D("te-no-last-chunk", G1 "Transfer-Encoding: chunked\r\n\r\n", "", BODY_FIRST),
    C("te-gzip-chunked", G1 "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" NEXT),
    D("te-gzip", G1 "Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n" NEXT, "4", TE_NOT_LAST),
    D("te-chunked-gzip", G1 "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" NEXT, "4",
      TE_NOT_LAST),
    D("te-identity", G1 "Transfer-Encoding: identity\r\n\r\n" NEXT, "4", TE_NOT_LAST),
    D("te-chunked-twice", G1 "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    C("te-two-lines", G1 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\n\r\n" NEXT),
    D("te-empty", G1 "Transfer-Encoding:\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    D("te-quoted", G1 "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    D("te-chunkedx", G1 "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    C("te-space-before-colon", G1 "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" NEXT),
    C("te-folded", G1 "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n" NEXT),
    D("te-vtab", G1 "Transfer-Encoding: \x0b" "chunked\r\n\r\n0\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    C("te-http10", "GET @ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT),
    C("te-underscore", G1 "Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT),
    /* --- CL.TE, TE.CL and friends: both framings at once */
    C("cl-te", G1 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT),
    C("te-cl", G1 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" NEXT),
    C("cl-te-smuggle", "POST @ HTTP/1.1\r\n" H "Content-Length: 13\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n0\r\n\r\nSMUGGLED" NEXT),
    C("te-cl-smuggle", "POST @ HTTP/1.1\r\n" H "Content-Length: 3\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n" NEXT),
    D("cl-te-gzip", G1 "Content-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "4", CL_TE_FIRST),
    C("cl0-te", G1 "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT),
    C("cl-te-lower", G1 "content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n" NEXT),
    C("cl-te-obsfold", G1 "Content-Length: 5\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n"
                       "0\r\n\r\n" NEXT),
    C("cl-te-space", G1 "Content-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" NEXT),
    C("cl-te-http10", "GET @ HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
                      "\r\n\r\n0\r\n\r\n" NEXT),
    /* --- more of everything */
    D("cl-te-tab", G1 "Content-Length: 5\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n" NEXT,
      "4", CL_TE_FIRST),
    D("te-chunked-comma", G1 "Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n" NEXT,
      "22", EMPTY_ELEMENTS),
    D("te-comma-chunked", G1 "Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n" NEXT,
      "22", EMPTY_ELEMENTS),
    C("te-chunked-space", G1 "Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n" NEXT),
    D("te-xchunked", G1 "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    D("te-chunked-param", G1 "Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n" NEXT,
      "4", TE_CODINGS),
    D("te-trailer-ctl", G1 "Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: \x01\r\n\r\n" NEXT,
      "4", TRAILERS),
    C("te-crlf-after-body", G1 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n\r\n" NEXT),
    C("cl-dup-zero", G1 "Content-Length: 0\r\nContent-Length: 0\r\n\r\n" NEXT),
    CN("cl-nul", G1 "Content-Length: 3\0\r\n\r\nabc" NEXT),
    C("cl-bare-cr", G1 "Content-Length: 3\rX\r\n\r\nabc" NEXT),
    C("cl-crlf-after-body", G1 "Content-Length: 3\r\n\r\nabc\r\n" NEXT),
    C("cl-body-lf-request", G1 "Content-Length: 27\r\n\r\nGET /blog HTTP/1.1\nHost: x\n\n"),
    C("pipelined-lf", "GET @ HTTP/1.1\nHost: x\n\nGET @b HTTP/1.1\nHost: x\n\n"),
    C("pipelined-close-middle", G1 "\r\n" "GET @b HTTP/1.1\r\n" H "Connection: close\r\n\r\n" NEXT),
    C("http10-close-next", "GET @ HTTP/1.0\r\nConnection: close\r\n\r\n" NEXT),
    C("head-http10", "HEAD @ HTTP/1.0\r\n\r\n"),
    C("head-with-body", "HEAD @ HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc" NEXT),
    C("options", "OPTIONS @ HTTP/1.1\r\n" H "\r\n"),
    C("patch-next", "PATCH @ HTTP/1.1\r\n" H "Content-Length: 2\r\n\r\nab" NEXT),
    C("trace", "TRACE @ HTTP/1.1\r\n" H "\r\n"),
    C("connect-authority", "CONNECT x:443 HTTP/1.1\r\n" H "\r\n"),
    C("target-percent", "GET /%41 HTTP/1.1\r\n" H "\r\n"),
    C("target-dotdot", "GET /../etc/passwd HTTP/1.1\r\n" H "\r\n"),
    D("host-empty", "GET @ HTTP/1.1\r\nHost:\r\n\r\n",
      "2", EMPTY_HOST),
    C("value-only-spaces", G1 "X:    \r\n\r\n"),
    C("post-no-length", "POST @ HTTP/1.1\r\n" H "\r\n" NEXT),
    C("get-te-then-cl-next", G1 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                             "POST @ HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\nx" NEXT),
    /* --- limits */
    {"head-7k", NULL, 7000, NULL, NULL},
    {"head-9k", NULL, 9000, "4", HEAD_8K},
    {"field-5k", NULL, 5000, "4", LINE_4K},
    {"field-9k", NULL, 9001, NULL, NULL},
    {"target-3k", NULL, 3000, "4", TARGET_2K},
    {"target-9k", NULL, 9002, NULL, NULL},
    {"fields-60", NULL, 60, NULL, NULL},
    {"fields-100", NULL, 100, "4", "our limit is 64 header lines (431); nginx has none of its own"},
    {"method-20", NULL, 20, "5", METHOD_501},
    {"empty-lines-9k", NULL, 9003, "4", EMPTY_LINES},
};
enum { NTABLE = sizeof table / sizeof table[0] };

/* The generated cases (bytes NULL): built here. Returns malloc'd bytes. */
static char *build_case(const struct dcase *c, size_t *len)
{
    size_t cap = 32768, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
#define PUT(...) (n += (size_t)snprintf(b + n, cap - n, __VA_ARGS__))
    const char *name = c->name;
    if (strcmp(name, "head-7k") == 0 || strcmp(name, "head-9k") == 0) {
        PUT("GET @ HTTP/1.1\r\nHost: x\r\n");
        while (n + 240 < c->len)
            PUT("X-Filler-%05zu: %0200d\r\n", n, 0);
        PUT("\r\n" NEXT);
    } else if (strncmp(name, "field-", 6) == 0) {
        PUT("GET @ HTTP/1.1\r\nHost: x\r\nX-Long: %0*d\r\n\r\n" NEXT, (int)c->len, 0);
    } else if (strncmp(name, "target-", 7) == 0) {
        PUT("GET /%0*d HTTP/1.1\r\nHost: x\r\n\r\n" NEXT, (int)c->len, 0);
    } else if (strncmp(name, "fields-", 7) == 0) {
        PUT("GET @ HTTP/1.1\r\nHost: x\r\n");
        for (size_t i = 0; i < c->len; i++)
            PUT("X-%zu: v\r\n", i);
        PUT("\r\n" NEXT);
    } else if (strcmp(name, "method-20") == 0) {
        PUT("%0*d @ HTTP/1.1\r\nHost: x\r\n\r\n", (int)c->len, 0);
        memset(b, 'G', c->len);
    } else if (strcmp(name, "empty-lines-9k") == 0) {
        while (n < c->len)
            PUT("\r\n");
        PUT(G1 "\r\n");
    } else {
        fail_msg("no builder for %s", name);
    }
#undef PUT
    *len = n;
    return b;
}

/* "@b" -> second page, "@" -> first page, in request lines (bodies hold
   no "@"). Returns malloc'd bytes. */
static char *expand(const char *in, size_t len, const char *page, const char *page2,
                    size_t *out_len)
{
    char *out = malloc(len * 8 + 16);
    assert_non_null(out);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '@') {
            out[n++] = in[i];
            continue;
        }
        const char *p = i + 1 < len && in[i + 1] == 'b' ? (i++, page2) : page;
        memcpy(out + n, p, strlen(p));
        n += strlen(p);
    }
    *out_len = n;
    return out;
}

/* ------------------------------------------------------------ exchange */

/* Send, shut our side, read until EOF (or 5 s). The classes of the
   responses, one digit each, into cls (at most cap-1). */
static void exchange(int port, const char *bytes, size_t len, char *cls, size_t cap)
{
    int fd = sup_connect(port, 2000);
    assert_true(fd >= 0);
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;                      /* the server may close early */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    static char buf[1 << 20];
    size_t got = 0;
    long long deadline = sup_now_ms() + 5000;
    while (got + 1 < sizeof buf && sup_now_ms() < deadline) {
        ssize_t n = sup_recv_timeout(fd, buf + got, sizeof buf - got, 200);
        if (n == -ETIMEDOUT)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    /* split: status line, fields, Content-Length bytes of body or none
       (HEAD: the next response or the end follows at once) */
    size_t pos = 0, k = 0;
    while (pos + 12 < got && k + 1 < cap && memcmp(buf + pos, "HTTP/1.", 7) == 0) {
        cls[k++] = buf[pos + 9];
        char *end = memmem(buf + pos, got - pos, "\r\n\r\n", 4);
        if (end == NULL)
            break;
        size_t head = (size_t)(end + 4 - (buf + pos));
        char *cl = memmem(buf + pos, head, "\nContent-Length: ", 17);
        size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
        pos += head;
        if (pos + 9 <= got && memcmp(buf + pos, "HTTP/1.", 7) == 0)
            continue;                   /* a reply to HEAD */
        pos += body;
    }
    cls[k] = '\0';
}

/* ------------------------------------------------------------ nginx */

static struct {
    pid_t pid;
    int port;
    char dir[128];
} ngx;

static int start_nginx(void)
{
    snprintf(ngx.dir, sizeof ngx.dir, "/tmp/book-nginx-%d", (int)getpid());
    char path[256], body[256];
    mkdir(ngx.dir, 0755);
    snprintf(body, sizeof body, "%s/body", ngx.dir);
    mkdir(body, 0755);
    ngx.port = sup_free_port();
    snprintf(path, sizeof path, "%s/nginx.conf", ngx.dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "daemon off; master_process off; worker_processes 1;\n"
            "error_log %s/error.log crit; pid %s/nginx.pid;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            "  access_log off; client_body_temp_path %s/body;\n"
            "  keepalive_timeout 5s; client_header_timeout 5s; client_body_timeout 5s;\n"
            "  lingering_time 1s; lingering_timeout 200ms; default_type text/html;\n"
            "  server {\n"
            "    listen 127.0.0.1:%d;\n"
            "    location = / { limit_except GET { deny all; } return 200 \"<p>page</p>\\n\"; }\n"
            "    location = /blog { limit_except GET { deny all; } return 200 \"<p>blog</p>\\n\"; }\n"
            "    location = /stats { limit_except GET { deny all; } return 200 \"stats\\n\"; }\n"
            "    location / { return 404; }\n"
            "  }\n"
            "}\n",
            ngx.dir, ngx.dir, body, ngx.port);
    fclose(f);
    char elog[256];
    snprintf(elog, sizeof elog, "%s/error.log", ngx.dir);
    ngx.pid = fork();
    if (ngx.pid == 0) {
        execl("/usr/sbin/nginx", "nginx", "-p", ngx.dir, "-c", path, "-e", elog, (char *)NULL);
        perror("exec /usr/sbin/nginx (apt-get install nginx-light)");
        _exit(127);
    }
    return ngx.pid > 0 && sup_wait_port(ngx.port, 5000) == 0 ? 0 : -1;
}

static void stop_nginx(void)
{
    if (ngx.pid > 0)
        sup_stop(ngx.pid, 5000);   /* SIGTERM: nginx's fast shutdown */
    ngx.pid = 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ngx.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", ngx.dir);
}

/* ------------------------------------------------------------ the test */

struct ours {
    const char *name, *prog;
    char *args[6];
    const char *page, *page2;
    int one_per_connection;     /* chapter 1: answers one request and closes */
};

static const struct ours servers[] = {
    {"chapter 1", "web-app-main", {NULL}, "/", "/blog", 1},
    {"web app", "sockets-webapp", {NULL}, "/", "/blog", 0},
    {"image server", "images-imageserver", {"--latency", "0", "--jitter", "0", NULL},
     "/stats", "/stats", 0},
};

static int run_server(const struct ours *o)
{
    struct sup_server s;
    if (sup_server_start(&s, o->prog, "differential", (char *const *)o->args, 10000) != 0)
        return -1;
    int failures = 0, differ = 0;
    for (int i = 0; i < NTABLE; i++) {
        const struct dcase *c = &table[i];
        size_t raw_len, len;
        char *generated = NULL;
        const char *raw = c->bytes;
        if (raw == NULL)
            raw = generated = build_case(c, &raw_len);
        else
            raw_len = c->len ? c->len : strlen(raw);
        char *bytes = expand(raw, raw_len, o->page, o->page2, &len);
        char theirs[64], got[64];
        exchange(ngx.port, bytes, len, theirs, sizeof theirs);
        exchange(s.port, bytes, len, got, sizeof got);
        free(bytes);
        free(generated);
        char want[64];
        snprintf(want, sizeof want, "%s", c->ours ? c->ours : theirs);
        if (o->one_per_connection) {
            want[1] = want[0] ? '\0' : want[1];
            if (want[0] == '\0' && got[0] == '4' && got[1] == '\0')
                snprintf(want, sizeof want, "4"); /* a head cut by EOF: 400 */
        }
        if (c->ours && strcmp(c->ours, theirs) == 0) {
            fprintf(stderr, "%s: %s: the table says we differ from nginx (%s), but nginx "
                            "says \"%s\" too\n", o->name, c->name, c->why, theirs);
            failures++;
        }
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "%s: %s: responses \"%s\", expected \"%s\" (nginx \"%s\")\n",
                    o->name, c->name, got, want, theirs);
            failures++;
        }
        differ += c->ours != NULL;
    }
    printf("%s: %d cases, %d where we differ from nginx on purpose, %d failures\n", o->name,
           NTABLE, differ, failures);
    int status = sup_stop(s.pid, 10000);
    if (status != 0 || failures != 0)
        sup_server_show_log(&s);
    unlink(s.log);
    return failures == 0 && status == 0 ? 0 : -1;
}

static void test_table_is_big_enough(void **state)
{
    (void)state;
    assert_true(NTABLE >= 200);
}

static void test_chapter1(void **state)
{
    (void)state;
    assert_int_equal(run_server(&servers[0]), 0);
}

static void test_webapp(void **state)
{
    (void)state;
    assert_int_equal(run_server(&servers[1]), 0);
}

static void test_imageserver(void **state)
{
    (void)state;
    assert_int_equal(run_server(&servers[2]), 0);
}

static int setup(void **state)
{
    (void)state;
    if (start_nginx() != 0) {
        fprintf(stderr, "nginx did not start (is nginx-light installed?)\n");
        stop_nginx();
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_nginx();
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_big_enough),
        cmocka_unit_test(test_chapter1),
        cmocka_unit_test(test_webapp),
        cmocka_unit_test(test_imageserver),
    };
    return cmocka_run_group_tests_name("http_differential", tests, setup, teardown);
}
