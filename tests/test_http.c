/* tests/test_http.c — the http module of chapter 01 without a network:
 * request-line parsing (valid lines and every kind of garbage), routing,
 * the decision 200/400/404/405, the status line and headers, and reading
 * a request head from a socket pair in pieces. Plus net_port_from_args. */
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

/* ---- request line ------------------------------------------------------ */

static int parse(const char *text, struct http_request *req, const char **why)
{
    *why = NULL;
    return http_parse_request_line(text, strlen(text), req, why);
}

/* Garbage must be rejected with -EINVAL and a reason for the 400 page. */
static void expect_bad(const char *text, size_t len, const char *reason_part)
{
    struct http_request req;
    const char *why = NULL;
    int rc = http_parse_request_line(text, len, &req, &why);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(why);
    if (reason_part != NULL && strstr(why, reason_part) == NULL)
        fail_msg("reason \"%s\" does not mention \"%s\"", why, reason_part);
}

static void test_parse_valid_crlf(void **state)
{
    (void)state;
    struct http_request req;
    const char *why;
    assert_int_equal(parse("GET /blog HTTP/1.1\r\nHost: x\r\n\r\n", &req, &why), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.target, "/blog");
    assert_string_equal(req.version, "HTTP/1.1");
    assert_null(why);
}

static void test_parse_valid_bare_lf_and_http10(void **state)
{
    (void)state;
    struct http_request req;
    const char *why;
    assert_int_equal(parse("POST /a?b=c HTTP/1.0\n\n", &req, &why), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.target, "/a?b=c");
    assert_string_equal(req.version, "HTTP/1.0");
}

static void test_parse_empty(void **state)
{
    (void)state;
    expect_bad("", 0, "empty");
    expect_bad("\r\n\r\n", 4, "empty request line");
    expect_bad("\n", 1, "empty request line");
}

static void test_parse_word_counts(void **state)
{
    (void)state;
    expect_bad("GET\r\n", 5, "one word");
    expect_bad("GET /\r\n", 7, "missing HTTP version");
    expect_bad("GET / HTTP/1.1 extra\r\n", 22, "too many");
    expect_bad("GET  / HTTP/1.1\r\n", 17, "empty field");
    expect_bad(" GET / HTTP/1.1\r\n", 17, "empty field");
    expect_bad("GET / \r\n", 8, "empty field");
}

static void test_parse_bad_tokens(void **state)
{
    (void)state;
    expect_bad("G@T / HTTP/1.1\r\n", 16, "method");
    expect_bad("GE(T / HTTP/1.1\r\n", 17, "method");
    expect_bad("AVERYVERYLONGMETHODNAME / HTTP/1.1\r\n", 36, "method");
    expect_bad("GET blog HTTP/1.1\r\n", 19, "start with /");
    expect_bad("GET http://x/ HTTP/1.1\r\n", 24, "start with /");
}

static void test_parse_bad_versions(void **state)
{
    (void)state;
    expect_bad("GET / HTTP/2.0\r\n", 16, "version");
    expect_bad("GET / HTTP/1\r\n", 14, "version");
    expect_bad("GET / HTTP/1.x\r\n", 16, "version");
    expect_bad("GET / http/1.1\r\n", 16, "version");
    expect_bad("GET / FTP/1.1\r\n", 15, "version");
    expect_bad("GET / HTTP/1.11\r\n", 17, "version");
}

static void test_parse_unterminated(void **state)
{
    (void)state;
    expect_bad("GET / HTTP/1.1", 14, "not terminated");
}

static void test_parse_binary_garbage(void **state)
{
    (void)state;
    /* The start of a TLS ClientHello: what a browser sends for https://. */
    static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n";
    expect_bad(tls, sizeof tls - 1, "control or non-ASCII");
    static const char nul[] = "GET /\0x HTTP/1.1\r\n";
    expect_bad(nul, sizeof nul - 1, "control or non-ASCII");
    expect_bad("GET /\x7f HTTP/1.1\r\n", 17, "control or non-ASCII");
    expect_bad("GET /\tx HTTP/1.1\r\n", 18, "control or non-ASCII");
    /* Pseudo-random bytes: never a crash, always a clean answer. */
    char buf[512];
    unsigned x = 12345;
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(round * 7 % (int)sizeof buf);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
        }
        struct http_request req;
        const char *why = NULL;
        int rc = http_parse_request_line(buf, len, &req, &why);
        assert_true(rc == 0 || (rc == -EINVAL && why != NULL));
    }
}

static void test_parse_huge(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    char *big = malloc(n + 32);
    assert_non_null(big);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', n);
    memcpy(big + 5 + n, " HTTP/1.1\r\n", 11);
    expect_bad(big, n + 16, "too long");
    memset(big, 'A', n + 16); /* one endless word without a line end */
    expect_bad(big, n + 16, "not terminated");
    free(big);
    /* The longest target that still fits. */
    char line[HTTP_TARGET_MAX + 32];
    line[0] = '/';
    memset(line + 1, 'x', HTTP_TARGET_MAX - 2);
    char req_text[HTTP_TARGET_MAX + 64];
    snprintf(req_text, sizeof req_text, "GET %.*s HTTP/1.1\r\n",
             HTTP_TARGET_MAX - 1, line);
    struct http_request req;
    const char *why;
    assert_int_equal(parse(req_text, &req, &why), 0);
    assert_int_equal(strlen(req.target), HTTP_TARGET_MAX - 1);
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
    struct http_reply r = {-1, "junk", "junk"};
    http_route_request(routes, text, strlen(text), &r);
    return r;
}

static void test_route_request(void **state)
{
    (void)state;
    struct http_reply r = route("GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "page A");
    assert_null(r.detail);
    r = route("GET /blog HTTP/1.0\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "page B");
    r = route("GET /missing HTTP/1.1\r\n\r\n");
    assert_int_equal(r.status, 404);
    assert_null(r.body);
    r = route("POST / HTTP/1.1\r\n\r\n");
    assert_int_equal(r.status, 405);
    r = route("POST /missing HTTP/1.1\r\n\r\n"); /* method first, as the original */
    assert_int_equal(r.status, 405);
    r = route("get / HTTP/1.1\r\n\r\n"); /* methods are case-sensitive */
    assert_int_equal(r.status, 405);
    r = route("GET\r\n\r\n");
    assert_int_equal(r.status, 400);
    assert_null(r.body);
    assert_non_null(r.detail);
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
    assert_non_null(strstr(buf, "Allow: GET\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n"));
    assert_int_equal(http_format_head(buf, 20, 200, 1, 0), -ENOSPC);
}

static void test_reason_and_error_body(void **state)
{
    (void)state;
    assert_string_equal(http_reason(200), "OK");
    assert_string_equal(http_reason(400), "Bad Request");
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(405), "Method Not Allowed");
    char buf[128];
    assert_true(http_error_body(buf, sizeof buf, 404, NULL) > 0);
    assert_string_equal(buf, "<h1>404<p>Not found</p></h1>");
    assert_true(http_error_body(buf, sizeof buf, 405, NULL) > 0);
    assert_string_equal(buf, "<h1>405<p>Method not allowed</p></h1>");
    assert_true(http_error_body(buf, sizeof buf, 400, "empty request line") > 0);
    assert_string_equal(buf, "<h1>400<p>Bad Request: empty request line</p></h1>");
    assert_int_equal(http_error_body(buf, 8, 404, NULL), -ENOSPC);
}

/* http_send_reply over a socket pair: the exact bytes on the wire. */
static void test_send_reply(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct http_reply r = {404, NULL, NULL};
    assert_int_equal(http_send_reply(sv[0], &r), 0);
    close(sv[0]);
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(sv[1], buf + got, sizeof buf - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(sv[1]);
    assert_string_equal(buf, "HTTP/1.1 404 Not Found\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Content-Length: 28\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "<h1>404<p>Not found</p></h1>");
}

/* ---- reading a head ------------------------------------------------------ */

static void test_read_head_in_pieces(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* Written in two pieces before reading: the reader must keep going
     * after the first newline until the blank line. */
    assert_int_equal(send(sv[0], "GET / HTTP/1.1\r\nHo", 18, 0), 18);
    char buf[HTTP_HEAD_MAX];
    if (fork() == 0) {
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        send(sv[0], "st: x\r\n\r\n", 9, 0);
        _exit(0);
    }
    ssize_t n = http_read_head(sv[1], buf, sizeof buf);
    assert_int_equal(n, 27);
    assert_string_equal(buf, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    close(sv[0]);
    close(sv[1]);
    while (wait(NULL) > 0) {
    }
}

static void test_read_head_eof_and_overflow(void **state)
{
    (void)state;
    int sv[2];
    char buf[64];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[0]); /* nothing sent at all */
    assert_int_equal(http_read_head(sv[1], buf, sizeof buf), 0);
    close(sv[1]);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    send(sv[0], "GET / HTTP/1.1\r\n", 16, 0); /* no blank line, then EOF */
    shutdown(sv[0], SHUT_WR);
    assert_int_equal(http_read_head(sv[1], buf, sizeof buf), 16);
    close(sv[0]);
    close(sv[1]);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    char big[200];
    memset(big, 'A', sizeof big);
    send(sv[0], big, sizeof big, 0);
    assert_int_equal(http_read_head(sv[1], buf, sizeof buf), -E2BIG);
    assert_int_equal(strlen(buf), sizeof buf - 1);
    close(sv[0]);
    close(sv[1]);
}

/* ---- net_port_from_args --------------------------------------------------- */

static void test_port_from_args(void **state)
{
    (void)state;
    unsetenv("PORT");
    char *none[] = {"prog", NULL};
    assert_int_equal(net_port_from_args(1, none, 5000), 5000);
    char *flag[] = {"prog", "--port", "6123", NULL};
    assert_int_equal(net_port_from_args(3, flag, 5000), 6123);
    char *eq[] = {"prog", "--port=7001", NULL};
    assert_int_equal(net_port_from_args(2, eq, 5000), 7001);
    setenv("PORT", "6500", 1);
    assert_int_equal(net_port_from_args(1, none, 5000), 6500);
    assert_int_equal(net_port_from_args(3, flag, 5000), 6123); /* flag wins */
    setenv("PORT", "junk", 1);
    assert_int_equal(net_port_from_args(1, none, 5000), -EINVAL);
    unsetenv("PORT");
    char *bad[] = {"prog", "--port", "50O0", NULL};
    assert_int_equal(net_port_from_args(3, bad, 5000), -EINVAL);
    char *zero[] = {"prog", "--port", "0", NULL};
    assert_int_equal(net_port_from_args(3, zero, 5000), -EINVAL);
    char *big[] = {"prog", "--port", "65536", NULL};
    assert_int_equal(net_port_from_args(3, big, 5000), -EINVAL);
    char *missing[] = {"prog", "--port", NULL};
    assert_int_equal(net_port_from_args(2, missing, 5000), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid_crlf),
        cmocka_unit_test(test_parse_valid_bare_lf_and_http10),
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_parse_word_counts),
        cmocka_unit_test(test_parse_bad_tokens),
        cmocka_unit_test(test_parse_bad_versions),
        cmocka_unit_test(test_parse_unterminated),
        cmocka_unit_test(test_parse_binary_garbage),
        cmocka_unit_test(test_parse_huge),
        cmocka_unit_test(test_find_route),
        cmocka_unit_test(test_route_request),
        cmocka_unit_test(test_format_head),
        cmocka_unit_test(test_reason_and_error_body),
        cmocka_unit_test(test_send_reply),
        cmocka_unit_test(test_read_head_in_pieces),
        cmocka_unit_test(test_read_head_eof_and_overflow),
        cmocka_unit_test(test_port_from_args),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
