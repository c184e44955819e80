/* tests/test_http.c — the http module of chapter 01 without a network:
 * the request parser (fed whole and byte by byte: the same verdict), its
 * limits and error statuses, body framing by RFC 9112 section 6 on
 * pipelined streams, routing (HEAD, absolute-form targets), the status
 * line, headers and error pages. Plus net_parse_args, the command line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "net.h"

/* ---- the parser ------------------------------------------------------- */

/* Parse text[0..len) as one request head, fed in pieces of `step` bytes
 * (0: all at once). Returns HTTP_DONE, HTTP_MORE or HTTP_ERROR; *status is
 * the error status (0 if none). */
static int parse_in_steps(const char *text, size_t len, size_t step,
                          struct http_request *req, int *status)
{
    struct http_parser p;
    http_parser_init(&p, req);
    int rc = HTTP_MORE;
    for (size_t have = 0; rc == HTTP_MORE && have < len;) {
        have = step == 0 || len - have < step ? len : have + step;
        rc = http_parse_head(&p, text, have);
    }
    *status = rc == HTTP_ERROR ? p.status : 0;
    if (rc == HTTP_ERROR)
        assert_non_null(p.why);
    return rc;
}

/* The same verdict whether fed whole or one byte at a time. */
static int parse_head(const char *text, size_t len, struct http_request *req,
                      int *status)
{
    struct http_request one;
    int status1;
    int rc = parse_in_steps(text, len, 0, req, status);
    int rc1 = parse_in_steps(text, len, 1, &one, &status1);
    assert_int_equal(rc, rc1);
    assert_int_equal(*status, status1);
    if (rc == HTTP_DONE)
        assert_memory_equal(req, &one, sizeof one);
    return rc;
}

static void expect_ok(const char *text, const char *method, const char *target)
{
    struct http_request req;
    int status;
    if (parse_head(text, strlen(text), &req, &status) != HTTP_DONE)
        fail_msg("\"%s\": status %d, expected a request", text, status);
    assert_string_equal(req.method, method);
    assert_string_equal(req.target, target);
}

static void expect_status(const char *text, size_t len, int want)
{
    struct http_request req;
    int status;
    int rc = parse_head(text, len, &req, &status);
    if (rc != HTTP_ERROR || status != want)
        fail_msg("\"%.*s\": rc %d status %d, expected %d", (int)len, text, rc,
                 status, want);
}
#define BAD(text, want) expect_status(text, sizeof text - 1, want)

static void test_parse_valid(void **state)
{
    (void)state;
    expect_ok("GET /blog HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/blog");
    expect_ok("POST /a?b=c HTTP/1.0\n\n", "POST", "/a?b=c");
    expect_ok("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/");
    expect_ok("GET http://example.com/blog?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "GET",
              "/blog?x=1");
    expect_ok("GET HTTPS://example.com HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/");
    expect_ok("GET http://h?q HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/?q");
    expect_ok("HEAD / HTTP/1.9\r\nHost: x\r\n\r\n", "HEAD", "/");
    expect_ok("get / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Tab:\tv \t\r\n\r\n", "get", "/");
    struct http_request req;
    int status;
    const char *t = "GET / HTTP/1.1\r\nHost:  a b  \r\nX: y\r\n\r\n";
    assert_int_equal(parse_head(t, strlen(t), &req, &status), HTTP_DONE);
    size_t len;
    const char *v = http_header(&req, t, "host", &len);
    assert_non_null(v);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "a b", 3);
    assert_null(http_header(&req, t, "Content-Length", &len));
    assert_int_equal(req.nfields, 2);
    assert_int_equal(req.minor, 1);
}

static void test_parse_need_more(void **state)
{
    (void)state;
    static const char *const partial[] = {
        "", "\r\n", "G", "GET", "GET /", "GET / HTTP/1.", "GET / HTTP/1.1\r",
        "GET / HTTP/1.1\r\nHost: x\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r",
    };
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
        struct http_request req;
        int status;
        assert_int_equal(parse_head(partial[i], strlen(partial[i]), &req, &status),
                         HTTP_MORE);
    }
}

/* Bytes that cannot start a request get 400 at once, not after the head. */
static void test_parse_garbage_at_once(void **state)
{
    (void)state;
    BAD("\x16\x03\x01\x02", 400);       /* TLS ClientHello */
    BAD(" GET / HTTP/1.1", 400);
    BAD("\0GET", 400);
    BAD("G@T", 400);
    BAD("GET /\0", 400);
    BAD("GET /\t", 400);
    BAD("GET /\x7f", 400);
    BAD("GET /\xc3\xa9", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\0", 400);
    BAD("GET / HTTP/1.1\r\nX: a\rb", 400);  /* a bare CR */
    BAD("GET / HTTP/1.1\rX", 400);
}

static void test_parse_request_line_errors(void **state)
{
    (void)state;
    BAD("GET\r\n\r\n", 400);
    BAD("GET /\r\n\r\n", 400);
    BAD("GET / HTTP/1.1 extra\r\n\r\n", 400);
    BAD("GET  / HTTP/1.1\r\n\r\n", 400);
    BAD("GET / \r\n\r\n", 400);
    BAD("GET / HTTP/1.1 \r\n\r\n", 400);
    BAD("GET blog HTTP/1.1\r\n\r\n", 400);
    BAD("OPTIONS * HTTP/1.1\r\n\r\n", 400);
    BAD("GET ftp://x/ HTTP/1.1\r\n\r\n", 400);
    BAD("GET / HTTP/1\r\n\r\n", 400);
    BAD("GET / HTTP/1.x\r\n\r\n", 400);
    BAD("GET / http/1.1\r\n\r\n", 400);
    BAD("GET / HTTP/1.11\r\n\r\n", 400);
    BAD("GET / HTTP/2.0\r\n\r\n", 505);
    BAD("GET / HTTP/0.9\r\n\r\n", 505);
    BAD("AVERYVERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", 501);
}

static void test_parse_header_errors(void **state)
{
    (void)state;
    BAD("GET / HTTP/1.1\r\n\r\n", 400);                       /* no Host */
    BAD("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    BAD("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX : y\r\n\r\n", 400);   /* space before colon */
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400); /* obs-fold */
    BAD("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\n:v\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01\r\n\r\n", 400);
}

/* Content-Length and Transfer-Encoding, RFC 9112 section 6. */
static void test_parse_framing(void **state)
{
    (void)state;
    struct http_request req;
    int status;
    const char *t = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0012\r\n\r\n";
    assert_int_equal(parse_head(t, strlen(t), &req, &status), HTTP_DONE);
    assert_int_equal(req.framing, HTTP_LENGTH);
    assert_int_equal(req.content_length, 12);
    t = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n";
    assert_int_equal(parse_head(t, strlen(t), &req, &status), HTTP_DONE);
    assert_int_equal(req.framing, HTTP_CHUNKED);
    t = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(parse_head(t, strlen(t), &req, &status), HTTP_DONE);
    assert_int_equal(req.framing, HTTP_NO_BODY);

    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", 413);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551617\r\n\r\n", 413);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400);
    BAD("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chu\"nked\r\n\r\n", 400);
}

static void test_parse_connection(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int keep;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection:\tclose\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: x\r\nconnection: CLOSE \r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: ,,close,\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_request req;
        int status;
        assert_int_equal(parse_head(cases[i].text, strlen(cases[i].text), &req, &status),
                         HTTP_DONE);
        if (req.keep_alive != cases[i].keep)
            fail_msg("%s: keep_alive %d", cases[i].text, req.keep_alive);
    }
}

static void test_parse_limits(void **state)
{
    (void)state;
    size_t n = HTTP_HEAD_MAX + 64;
    char *big = malloc(n);
    assert_non_null(big);
    /* a target of 2047 bytes fits, 2048 does not: 414 */
    int len = snprintf(big, n, "GET /%0*d HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_TARGET_MAX - 2, 0);
    struct http_request req;
    int status;
    assert_int_equal(parse_head(big, (size_t)len, &req, &status), HTTP_DONE);
    assert_int_equal(strlen(req.target), HTTP_TARGET_MAX - 1);
    len = snprintf(big, n, "GET /%0*d HTTP/1.1\r\n", HTTP_TARGET_MAX - 1, 0);
    expect_status(big, (size_t)len, 414);
    /* one header line of 4 KiB: 431 */
    len = snprintf(big, n, "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", HTTP_LINE_MAX, 0);
    expect_status(big, (size_t)len, 431);
    /* many short lines, 8 KiB in all: 431 */
    size_t used = (size_t)snprintf(big, n, "GET / HTTP/1.1\r\n");
    while (used + 40 < n)
        used += (size_t)snprintf(big + used, n - used, "X-%04zu: %030d\r\n", used, 0);
    expect_status(big, used, 431);
    /* 65 header lines: 431 */
    used = (size_t)snprintf(big, n, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < HTTP_FIELDS_MAX; i++)
        used += (size_t)snprintf(big + used, n - used, "X: %d\r\n", i);
    used += (size_t)snprintf(big + used, n - used, "\r\n");
    expect_status(big, used, 431);
    /* endless garbage that looks like a method: 501 at 16 bytes */
    memset(big, 'A', n);
    expect_status(big, n, 501);
    free(big);
}

/* Pseudo-random bytes: never a crash, always a clean verdict. */
static void test_parse_random(void **state)
{
    (void)state;
    char buf[512];
    unsigned x = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(round * 7 % (int)sizeof buf);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
            if (round % 2 && buf[i] & 1)
                buf[i] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"[i % 28];
        }
        struct http_request req;
        int status;
        int rc = parse_head(buf, len, &req, &status);
        assert_true(rc == HTTP_MORE || rc == HTTP_DONE ||
                    (rc == HTTP_ERROR && status >= 400 && status < 600));
    }
}

/* ---- bodies: what a keep-alive server makes of a byte stream ------------- */

/* Frame the stream the way a keep-alive server does: head, body skipped,
 * next request. Writes the verdicts ("200" for a request, the error status
 * for an error, "more" when the stream ends mid-request) as one string. */
static const char *frame(const char *s, size_t len)
{
    static char out[256];
    size_t pos = 0;
    out[0] = '\0';
    while (pos < len) {
        struct http_parser p;
        struct http_request req;
        http_parser_init(&p, &req);
        int rc = http_parse_head(&p, s + pos, len - pos);
        if (rc != HTTP_DONE) {
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s",
                     rc == HTTP_MORE ? "more" : "");
            if (rc == HTTP_ERROR)
                snprintf(out + strlen(out), sizeof out - strlen(out), "%d", p.status);
            return out;
        }
        pos += http_head_length(&p);
        long used = http_skip_body(&p, s + pos, len - pos);
        if (used < 0) {
            snprintf(out + strlen(out), sizeof out - strlen(out), "%d", p.status);
            return out;
        }
        pos += (size_t)used;
        if (!http_body_done(&p)) {
            strcat(out, "more");
            return out;
        }
        strcat(out, "ok ");
        if (!req.keep_alive)
            return out;
    }
    return out;
}
#define FRAME(text) frame(text, sizeof text - 1)

static void test_body_framing(void **state)
{
    (void)state;
    /* finding 1: the body of a request is not the next request */
    assert_string_equal(FRAME("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\n"
                              "GET /blog HTTP/1.1\r\n\r\n"), "ok ");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                              "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "ok ok ");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"),
                        "more");
    /* finding 2: a chunked body is decoded and skipped */
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
                              "Trailer: t\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "ok ok ");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\nhello\n0\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "ok ok ");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5 ; a=b\r\nhello\r\n0\r\n\r\n"), "ok ");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello!\r\n0\r\n\r\n"), "400");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "zz\r\n"), "400");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5 x\r\nhello\r\n0\r\n\r\n"), "400");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\rhello\r\n0\r\n\r\n"), "400");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "ffffffffffffffffffffff\r\n"), "413");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "80000\r\n"), "more");   /* 512 KiB: allowed */
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "100001\r\n"), "413");
    assert_string_equal(FRAME("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "1\r\na\r\n0\r\nX: \x01\r\n\r\n"), "400");
    /* an endless chunk extension: 431 once the line reaches HTTP_LINE_MAX */
    static const char head[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;";
    static char endless[sizeof head + HTTP_LINE_MAX];
    memcpy(endless, head, sizeof head - 1);
    memset(endless + sizeof head - 1, 'e', HTTP_LINE_MAX);
    assert_string_equal(frame(endless, sizeof endless - 1), "431");
    /* Connection: close ends the stream after the first request */
    assert_string_equal(FRAME("GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n"
                              "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "ok ");
}

/* The body fed in every possible split gives the same verdict. */
static void test_body_in_pieces(void **state)
{
    (void)state;
    static const char body[] = "4\r\nWiki\r\n5;x\r\npedia\r\n0\r\nA: b\r\n\r\nNEXT";
    for (size_t cut = 0; cut <= sizeof body - 1; cut++) {
        struct http_parser p;
        struct http_request req;
        const char *h = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        http_parser_init(&p, &req);
        assert_int_equal(http_parse_head(&p, h, strlen(h)), HTTP_DONE);
        long a = http_skip_body(&p, body, cut);
        assert_true(a >= 0);
        long b = http_skip_body(&p, body + a, sizeof body - 1 - (size_t)a);
        assert_true(b >= 0);
        assert_true(http_body_done(&p));
        assert_int_equal(a + b, sizeof body - 1 - 4);  /* "NEXT" is not body */
    }
}

/* ---- routing ---------------------------------------------------------- */

static const char *view_a(const struct http_request *req)
{
    (void)req;
    return "page A";
}

static const char *view_b(const struct http_request *req)
{
    return strcmp(req->method, "GET") == 0 ? "page B" : "wrong";
}

static const struct http_route routes[] = {
    {"/", view_a},
    {"/blog", view_b},
    {NULL, NULL},
};

static void test_find_route(void **state)
{
    (void)state;
    assert_ptr_equal(http_find_route(routes, "/"), &routes[0]);
    assert_ptr_equal(http_find_route(routes, "/blog"), &routes[1]);
    assert_ptr_equal(http_find_route(routes, "/blog?page=2"), &routes[1]);
    assert_ptr_equal(http_find_route(routes, "/?x"), &routes[0]);
    assert_null(http_find_route(routes, "/blog/"));
    assert_null(http_find_route(routes, "/blo"));
    assert_null(http_find_route(routes, "/blogs"));
    assert_null(http_find_route(routes, "/nope"));
    static const struct http_route empty[] = {{NULL, NULL}};
    assert_null(http_find_route(empty, "/"));
}

static struct http_reply route(const char *text)
{
    struct http_parser p;
    struct http_request req;
    struct http_reply r = {-1, "junk", "junk", 7};
    http_parser_init(&p, &req);
    int rc = http_parse_head(&p, text, strlen(text));
    if (rc == HTTP_DONE)
        http_route(routes, &req, &r);
    else if (rc == HTTP_ERROR)
        http_error_reply(&p, &r);
    else
        fail_msg("incomplete: %s", text);
    return r;
}

static void test_route_request(void **state)
{
    (void)state;
    struct http_reply r = route("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "page A");
    assert_null(r.detail);
    assert_int_equal(r.head_only, 0);
    r = route("GET /blog HTTP/1.0\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "page B");
    r = route("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"); /* finding 5: HEAD is GET */
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "page A");
    assert_int_equal(r.head_only, 1);
    r = route("GET http://localhost:5000/blog HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "page B");
    r = route("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 404);
    assert_null(r.body);
    r = route("POST / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 405);
    r = route("DELETE /missing HTTP/1.1\r\nHost: x\r\n\r\n"); /* method first */
    assert_int_equal(r.status, 405);
    r = route("get / HTTP/1.1\r\nHost: x\r\n\r\n"); /* methods are case-sensitive */
    assert_int_equal(r.status, 405);
    r = route("GET / HTTP/1.1\r\n\r\n");             /* finding 5: no Host */
    assert_int_equal(r.status, 400);
    assert_null(r.body);
    assert_non_null(r.detail);
    r = route("GET\r\n\r\n");
    assert_int_equal(r.status, 400);
    r = route("GET / HTTP/2.0\r\n\r\n");
    assert_int_equal(r.status, 505);
}

/* ---- response ----------------------------------------------------------- */

static void test_format_head(void **state)
{
    (void)state;
    char buf[256];
    int n = http_format_head(buf, sizeof buf, 200, 42, 0);
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Content-Length: 42\r\n"
                             "Connection: close\r\n"
                             "\r\n");
    n = http_format_head(buf, sizeof buf, 200, 42, 1);
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Content-Length: 42\r\n"
                             "Connection: keep-alive\r\n"
                             "\r\n");
    n = http_format_head(buf, sizeof buf, 405, 0, 0);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(buf, "Allow: GET, HEAD\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n"));
    assert_int_equal(http_format_head(buf, 20, 200, 1, 0), -ENOSPC);
}

static void test_reason_and_error_body(void **state)
{
    (void)state;
    static const int codes[] = {200, 302, 400, 404, 405, 413, 414, 431, 500, 501, 505};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        assert_string_not_equal(http_reason(codes[i]), "Unknown");
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(299), "Unknown");   /* a code it does not know */
    char buf[1024];
    assert_true(http_error_body(buf, sizeof buf, 404, NULL) > 0);
    assert_non_null(strstr(buf, "<h1>404</h1>\n  <p>Not found</p>"));
    assert_int_equal(strncmp(buf, "<!DOCTYPE html>", 15), 0);
    assert_true(http_error_body(buf, sizeof buf, 400, "empty request line") > 0);
    assert_non_null(strstr(buf, "<p>Bad Request: empty request line</p>"));
    assert_int_equal(http_error_body(buf, 8, 404, NULL), -ENOSPC);
}

/* A HEAD reply: the GET head with its Content-Length, and no body. */
static void test_format_reply_head(void **state)
{
    (void)state;
    char buf[512];
    struct http_reply r = {200, "0123456789", NULL, 0};
    int n = http_format_reply(buf, sizeof buf, &r, 1);
    assert_true(n > 10);
    assert_memory_equal(buf + n - 14, "\r\n\r\n0123456789", 14);
    r.head_only = 1;
    int m = http_format_reply(buf, sizeof buf, &r, 1);
    assert_int_equal(m, n - 10);
    assert_non_null(strstr(buf, "Content-Length: 10\r\n"));
    assert_int_equal(http_format_reply(buf, 20, &r, 1), -ENOSPC);
    /* an error page whose detail does not fit the page: -ENOSPC, not a cut page */
    char detail[2000];
    memset(detail, 'd', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    struct http_reply e = {400, NULL, detail, 0};
    assert_int_equal(http_format_reply(buf, sizeof buf, &e, 0), -ENOSPC);
}

/* http_send_reply over a socket pair: the exact bytes on the wire. */
static void test_send_reply(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct http_reply r = {404, NULL, NULL, 0};
    assert_int_equal(http_send_reply(sv[0], &r), 0);
    close(sv[0]);
    char buf[2048], page[1024];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(sv[1], buf + got, sizeof buf - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(sv[1]);
    int len = http_error_body(page, sizeof page, 404, NULL);
    char want[2048];
    snprintf(want, sizeof want,
             "HTTP/1.1 404 Not Found\r\n"
             "Content-Type: text/html; charset=utf-8\r\n"
             "Content-Length: %d\r\n"
             "Connection: close\r\n"
             "\r\n%s", len, page);
    assert_string_equal(buf, want);
}

/* ---- net_parse_args ------------------------------------------------------ */

static int parse_cli(int argc, char **argv, int *port, double *secs, long *n,
                     int *flag, int *status)
{
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = port, .arg = "N", .help = "port"},
        {.name = "idle-timeout", .kind = NET_OPT_SECONDS, .value = secs, .arg = "S",
         .help = "seconds", .max = 100},
        {.name = "count", .kind = NET_OPT_LONG, .value = n, .arg = "N", .help = "count",
         .min = 1, .max = 10},
        {.name = "verbose", .kind = NET_OPT_FLAG, .value = flag, .help = "flag"},
        {0},
    };
    FILE *quiet = freopen("/dev/null", "w", stderr);
    (void)quiet;
    return net_parse_args(argc, argv, "[options]", opts, 1, status);
}

static void test_parse_args(void **state)
{
    (void)state;
    unsetenv("PORT");
    int port = 5000, flag = 0, status = -7;
    double secs = 5;
    long n = 3;
    char *none[] = {"prog", NULL};
    assert_int_equal(parse_cli(1, none, &port, &secs, &n, &flag, &status), 1);
    assert_int_equal(port, 5000);
    char *all[] = {"prog", "--port", "6123", "--idle-timeout=0.5", "--count", "10",
                   "--verbose", "extra", NULL};
    assert_int_equal(parse_cli(8, all, &port, &secs, &n, &flag, &status), 7);
    assert_int_equal(port, 6123);
    assert_true(secs == 0.5);
    assert_int_equal(n, 10);
    assert_int_equal(flag, 1);
    setenv("PORT", "6500", 1);
    port = 5000;
    assert_true(parse_cli(1, none, &port, &secs, &n, &flag, &status) > 0);
    assert_int_equal(port, 6500);
    char *flagged[] = {"prog", "--port", "6123", NULL};
    assert_true(parse_cli(3, flagged, &port, &secs, &n, &flag, &status) > 0);
    assert_int_equal(port, 6123); /* the flag wins over PORT */
    setenv("PORT", "junk", 1);
    assert_int_equal(parse_cli(1, none, &port, &secs, &n, &flag, &status), -1);
    assert_int_equal(status, 2);
    unsetenv("PORT");
    static char *const bad[][4] = {
        {"prog", "--port", "50O0", NULL}, {"prog", "--port", "0", NULL},
        {"prog", "--port", "65536", NULL}, {"prog", "--port", NULL, NULL},
        {"prog", "--prot", "6123", NULL}, {"prog", "--idle-timeout", "0", NULL},
        {"prog", "--idle-timeout", "nan", NULL}, {"prog", "--idle-timeout", "101", NULL},
        {"prog", "--count", "11", NULL}, {"prog", "--count", "1x", NULL},
        {"prog", "a", "b", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int argc = 0;
        while (bad[i][argc])
            argc++;
        status = -7;
        if (parse_cli(argc, (char **)bad[i], &port, &secs, &n, &flag, &status) != -1 ||
            status != 2)
            fail_msg("case %zu accepted (%s %s)", i, bad[i][1], bad[i][2] ? bad[i][2] : "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_need_more),
        cmocka_unit_test(test_parse_garbage_at_once),
        cmocka_unit_test(test_parse_request_line_errors),
        cmocka_unit_test(test_parse_header_errors),
        cmocka_unit_test(test_parse_framing),
        cmocka_unit_test(test_parse_connection),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_random),
        cmocka_unit_test(test_body_framing),
        cmocka_unit_test(test_body_in_pieces),
        cmocka_unit_test(test_find_route),
        cmocka_unit_test(test_route_request),
        cmocka_unit_test(test_format_head),
        cmocka_unit_test(test_reason_and_error_body),
        cmocka_unit_test(test_format_reply_head),
        cmocka_unit_test(test_send_reply),
        cmocka_unit_test(test_parse_args),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
