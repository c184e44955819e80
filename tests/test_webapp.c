/* tests/test_webapp.c — chapter 01's web application as a whole: the real
 * program on a free loopback port, the real curl as the client. Pages and
 * headers for / and /blog, 404, 405, 400 for garbage sent over a raw socket,
 * the server living on after each of them, the raw request and the client
 * address in its log, and a clean exit (status 0) on SIGTERM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support.h"

#define PROG "web-app-main"

/* Start the web app from the root directory "/": it must not need its
 * templates on disk. BOOK_BIN is made absolute first. */
static int setup(void **state)
{
    static struct sup_server s;
    char here[PATH_MAX], bin[2 * PATH_MAX + 2];
    const char *dir = getenv("BOOK_BIN");
    if (dir == NULL || *dir == '\0')
        dir = "build/bin";
    if (getcwd(here, sizeof here) == NULL)
        return -1;
    if (dir[0] == '/')
        snprintf(bin, sizeof bin, "%s", dir);
    else
        snprintf(bin, sizeof bin, "%s/%s", here, dir);
    setenv("BOOK_BIN", bin, 1);
    if (chdir("/") != 0)
        return -1;
    int rc = sup_server_start(&s, PROG, "webapp", NULL, 10000);
    if (chdir(here) != 0 || rc != 0)
        return -1;
    *state = &s;
    return 0;
}

/* Stop the server; it must exit with status 0 (ASan: nothing leaked). */
static int teardown(void **state)
{
    struct sup_server *s = *state;
    int status = sup_stop(s->pid, 5000);
    if (status != 0)
        sup_server_show_log(s);
    unlink(s->log);
    if (status != 0)
        fprintf(stderr, "server exit status %d, expected 0\n", status);
    return status == 0 ? 0 : -1;
}

/* Run curl with extra arguments on a path; its whole output (with -i:
 * status line and headers too) in malloc'd memory. */
static char *curl(const struct sup_server *s, const char *args, const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "curl -s -i --max-time 5 %s 'http://127.0.0.1:%d%s' 2>&1",
             args, s->port, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);
    assert_non_null(out);
    while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0)
        len += n;
    out[len] = '\0';
    int status = pclose(p);
    if (status != 0)
        fail_msg("%s: exit status %d, output: %s", cmd, status, out);
    return out;
}

/* The body after the blank line must be exactly Content-Length bytes. */
static void assert_length_matches(const char *response)
{
    const char *cl = strstr(response, "\r\nContent-Length: ");
    const char *body = strstr(response, "\r\n\r\n");
    assert_non_null(cl);
    assert_non_null(body);
    long declared = strtol(cl + 18, NULL, 10);
    assert_int_equal(declared, (long)strlen(body + 4));
}

static void expect_page(const struct sup_server *s, const char *path,
                        const char *heading)
{
    char *r = curl(s, "", path);
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(r, "<!DOCTYPE html>"));
    assert_non_null(strstr(r, heading));
    assert_length_matches(r);
    free(r);
}

static void test_index_and_blog(void **state)
{
    struct sup_server *s = *state;
    expect_page(s, "/", "<h1>Index page</h1>");
    expect_page(s, "/blog", "<h1>Blog page</h1>");
    expect_page(s, "/blog?page=2", "<h1>Blog page</h1>");
}

static void test_not_found(void **state)
{
    struct sup_server *s = *state;
    char *r = curl(s, "", "/no/such/page");
    assert_non_null(strstr(r, "HTTP/1.1 404 Not Found\r\n"));
    assert_non_null(strstr(r, "\r\n\r\n<h1>404<p>Not found</p></h1>"));
    assert_length_matches(r);
    free(r);
    expect_page(s, "/", "<h1>Index page</h1>");
}

static void test_method_not_allowed(void **state)
{
    struct sup_server *s = *state;
    char *r = curl(s, "-X POST -d name=value", "/");
    assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(r, "\r\nAllow: GET\r\n"));
    assert_non_null(strstr(r, "\r\n\r\n<h1>405<p>Method not allowed</p></h1>"));
    assert_length_matches(r);
    free(r);
    expect_page(s, "/blog", "<h1>Blog page</h1>");
}

/* Send raw bytes, end our side, read the whole answer. */
static char *raw_exchange(const struct sup_server *s, const char *bytes, size_t len)
{
    int fd = sup_connect(s->port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
    shutdown(fd, SHUT_WR);
    static char buf[4096];
    ssize_t n = sup_recv_all(fd, buf, sizeof buf, 5000);
    close(fd);
    assert_true(n > 0);
    return buf;
}

static void expect_bad_request(const struct sup_server *s, const char *bytes,
                               size_t len)
{
    char *r = raw_exchange(s, bytes, len);
    if (strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) != 0)
        fail_msg("expected 400, got: %s", r);
    assert_non_null(strstr(r, "\r\n\r\n<h1>400<p>Bad Request: "));
    assert_length_matches(r);
}

static void test_garbage_gets_400(void **state)
{
    struct sup_server *s = *state;
    static const char *const texts[] = {
        "\r\n\r\n",
        "GET\r\n\r\n",
        "hello there\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET nothing-slash HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1", /* no line end at all, then EOF */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        expect_bad_request(s, texts[i], strlen(texts[i]));
    static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    expect_bad_request(s, tls, sizeof tls - 1);
    size_t big = 20000; /* longer than the server's 8 KiB head buffer */
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, 'A', big);
    expect_bad_request(s, huge, big);
    free(huge);
    expect_page(s, "/", "<h1>Index page</h1>");
}

static void test_rude_clients(void **state)
{
    struct sup_server *s = *state;
    /* Connects and leaves without a word. */
    int fd = sup_connect(s->port, 2000);
    assert_true(fd >= 0);
    close(fd);
    /* Half a request, then a reset (RST) instead of a goodbye. */
    fd = sup_connect(s->port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(sup_send_str(fd, "GET / HT"), 0);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    expect_page(s, "/blog", "<h1>Blog page</h1>");
}

static void test_log_shows_request_and_address(void **state)
{
    struct sup_server *s = *state;
    char *r = curl(s, "", "/blog");
    free(r);
    if (sup_wait_output(s->log, "-> 200 OK", 5000) != 0)
        sup_server_show_log(s);
    char *log = sup_read_file(s->log);
    assert_non_null(log);
    assert_non_null(strstr(log, "Serving on http://127.0.0.1:"));
    assert_non_null(strstr(log, "b'GET /blog HTTP/1.1\\r\\nHost: 127.0.0.1:"));
    assert_non_null(strstr(log, "('127.0.0.1', "));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_index_and_blog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_gets_400, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rude_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_shows_request_and_address,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("webapp", tests, NULL, NULL);
}
