/* tests/test_http_servers.c — the findings of the HTTP review, one by one,
 * against the two servers on the event loop (chapter 10's web app and
 * chapter 11's image server); chapter 1's server has its own in
 * test_webapp.c, and the framing of ~200 shapes is compared with nginx in
 * test_http_differential.c.
 *   1. a request body is never read as the next request: GET with a
 *      Content-Length body that is a request gets one reply; a POST whose
 *      body is "GET /stats/reset" does not reset the image server's counters;
 *   2. a chunked body is skipped, not parsed as a request line;
 *   3. NUL or bytes that cannot start a request line: 400 at once, while the
 *      client keeps the connection open (idle timeout 30 s: no waiting for it);
 *   4. "Connection: TE, close" and "Connection:<TAB>close" close;
 *   5. HEAD gets the GET head without a body; absolute-form works; HTTP/1.1
 *      without Host is 400; a head ending in bare LF is answered; DELETE is
 *      405 and resets nothing; /4294967297/1 is not a 1x1 image. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support.h"

struct target {
    const char *prog;
    char *args[8];
};

static const struct target webapp = {"sockets-webapp", {"--idle-timeout", "30", NULL}};
static const struct target images = {
    "images-imageserver", {"--latency", "0", "--jitter", "0", "--idle-timeout", "30", NULL}};

static int setup(void **state, const struct target *t)
{
    static struct sup_server s;
    if (sup_server_start(&s, t->prog, "http-servers", (char *const *)t->args, 10000) != 0)
        return -1;
    *state = &s;
    return 0;
}
static int setup_webapp(void **state) { return setup(state, &webapp); }
static int setup_images(void **state) { return setup(state, &images); }

static int teardown(void **state)
{
    struct sup_server *s = *state;
    int status = sup_stop(s->pid, 5000);
    if (status != 0)
        sup_server_show_log(s);
    unlink(s->log);
    return status == 0 ? 0 : -1;
}

/* Send bytes; if close_after, shut our side; read for up to ms. */
static char *talk(const struct sup_server *s, const char *bytes, size_t len, int close_after,
                  int ms)
{
    static char buf[1 << 16];
    int fd = sup_connect(s->port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
    if (close_after)
        shutdown(fd, SHUT_WR);
    ssize_t n = sup_recv_all(fd, buf, sizeof buf, ms);
    close(fd);
    if (n < 0)
        buf[0] = '\0';
    return buf;
}
#define TALK(s, text) talk(s, text, sizeof text - 1, 1, 5000)

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static long stat_value(const struct sup_server *s, const char *name)
{
    char *r = TALK(s, "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const char *p = strstr(r, name);
    assert_non_null(p);
    return strtol(p + strlen(name), NULL, 10);
}

/* ---- both servers ------------------------------------------------------ */

static void test_body_is_not_a_request(void **state)
{
    struct sup_server *s = *state;
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\n"
                     "GET /blog HTTP/1.1\r\n\r\n");
    char *r = talk(s, req, (size_t)n, 1, 5000);
    assert_int_equal(count(r, "HTTP/1.1 "), 1);
    r = TALK(s, "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "16\r\nGET /blog HTTP/1.1\r\n\r\n\r\n0\r\n\r\n"
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(count(r, "HTTP/1.1 "), 2);            /* finding 2 */
    assert_null(strstr(r, "400 Bad Request"));
}

static void test_garbage_at_once(void **state)
{
    struct sup_server *s = *state;
    static const char nul[] = "GET /\0 HTTP/1.1\r\n";
    static const char *const starts[] = {nul, "\x16\x03\x01", " GET"};
    static const size_t lens[] = {sizeof nul - 1, 3, 4};
    for (int i = 0; i < 3; i++) {
        char *r = talk(s, starts[i], lens[i], 0, 4000);  /* we do not close */
        if (strncmp(r, "HTTP/1.1 400 ", 13) != 0)
            fail_msg("case %d: no 400 within 4 s: \"%.40s\"", i, r);
    }
}

static void test_connection_lists(void **state)
{
    struct sup_server *s = *state;
    char req[256];
    static const char *const values[] = {"TE, close", "\tclose", "close, TE", "CLOSE"};
    for (int i = 0; i < 4; i++) {
        /* the connection must close after the first reply even though we
           do not close our side: the second request is never answered */
        snprintf(req, sizeof req,
                 "GET /stats HTTP/1.1\r\nHost: x\r\nConnection:%s%s\r\n\r\n"
                 "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n",
                 values[i][0] == '\t' ? "" : " ", values[i]);
        char *r = talk(s, req, strlen(req), 0, 4000);
        assert_int_equal(count(r, "HTTP/1.1 "), 1);
        assert_non_null(strstr(r, "Connection: close\r\n"));
    }
}

static void test_head_absolute_host_lf(void **state)
{
    struct sup_server *s = *state;
    char *r = TALK(s, "HEAD /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const char *end = strstr(r, "\r\n\r\n");
    assert_non_null(end);
    assert_string_equal(end, "\r\n\r\n");                    /* no body */
    assert_null(strstr(r, "405"));
    r = TALK(s, "GET http://x/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_null(strstr(r, "400 Bad Request"));
    r = TALK(s, "GET /stats HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_int_equal(strncmp(r, "HTTP/1.1 400 ", 13), 0);   /* no Host */
    r = TALK(s, "GET /stats HTTP/1.1\nHost: x\nConnection: close\n\n");
    assert_int_equal(count(r, "HTTP/1.1 "), 1);              /* bare LF */
}

/* ---- the image server ------------------------------------------------------ */

static void test_images_smuggled_reset(void **state)
{
    struct sup_server *s = *state;
    assert_int_equal(strncmp(TALK(s, "GET /8/8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                             "HTTP/1.1 302 ", 13), 0);
    long before = stat_value(s, "requests ");
    assert_true(before >= 1);
    char *r = TALK(s, "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 38\r\n\r\n"
                      "GET /stats/reset HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(count(r, "HTTP/1.1 "), 1);
    assert_int_equal(strncmp(r, "HTTP/1.1 405 ", 13), 0);
    r = TALK(s, "DELETE /stats/reset HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(strncmp(r, "HTTP/1.1 405 ", 13), 0);
    assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
    assert_int_equal(stat_value(s, "requests "), before);   /* nothing was reset */
}

static void test_images_sizes_do_not_wrap(void **state)
{
    struct sup_server *s = *state;
    static const char *const paths[] = {"/4294967297/1", "/1/4294967297", "/0/5", "/1025/1",
                                        "/-1/5", "/+1/5", "/99999999999999999999/1"};
    for (int i = 0; i < 7; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 paths[i]);
        char *r = talk(s, req, strlen(req), 1, 5000);
        if (strncmp(r, "HTTP/1.1 404 ", 13) != 0)
            fail_msg("%s: expected 404, got \"%.30s\"", paths[i], r);
    }
    char *r = TALK(s, "GET /1024/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(strncmp(r, "HTTP/1.1 302 ", 13), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_body_is_not_a_request, setup_webapp, teardown),
        cmocka_unit_test_setup_teardown(test_body_is_not_a_request, setup_images, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_at_once, setup_webapp, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_at_once, setup_images, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lists, setup_webapp, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lists, setup_images, teardown),
        cmocka_unit_test_setup_teardown(test_head_absolute_host_lf, setup_webapp, teardown),
        cmocka_unit_test_setup_teardown(test_head_absolute_host_lf, setup_images, teardown),
        cmocka_unit_test_setup_teardown(test_images_smuggled_reset, setup_images, teardown),
        cmocka_unit_test_setup_teardown(test_images_sizes_do_not_wrap, setup_images, teardown),
    };
    return cmocka_run_group_tests_name("http_servers", tests, NULL, NULL);
}
