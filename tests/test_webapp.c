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
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
    assert_non_null(strstr(r, "<h1>404</h1>\n  <p>Not found</p>"));
    assert_length_matches(r);
    free(r);
    expect_page(s, "/", "<h1>Index page</h1>");
}

static void test_method_not_allowed(void **state)
{
    struct sup_server *s = *state;
    char *r = curl(s, "-X POST -d name=value", "/");
    assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
    assert_non_null(strstr(r, "<h1>405</h1>\n  <p>Method not allowed</p>"));
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

/* The answer to bytes must be an error page with the given status. */
static void expect_error(const struct sup_server *s, const char *bytes, size_t len,
                         int status)
{
    char *r = raw_exchange(s, bytes, len);
    char line[64], h1[32];
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    snprintf(h1, sizeof h1, "<h1>%d</h1>", status);
    if (strncmp(r, line, strlen(line)) != 0)
        fail_msg("expected %d, got: %s", status, r);
    assert_non_null(strstr(r, h1));
    assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
    assert_length_matches(r);
}

static void test_garbage_gets_400(void **state)
{
    struct sup_server *s = *state;
    static const char *const texts[] = {
        "\r\n\r\n",
        "GET\r\n\r\n",
        "hello there\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET nothing-slash HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n", /* HTTP/1.1 without Host */
        "GET / HTTP/1.1", /* no line end at all, then EOF */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        expect_error(s, texts[i], strlen(texts[i]), 400);
    expect_error(s, "GET / HTTP/2.0\r\n\r\n", 18, 505);
    static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    expect_error(s, tls, sizeof tls - 1, 400);
    size_t big = 20000; /* longer than the server's 8 KiB head buffer */
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, 'a', big);
    memcpy(huge, "GET /", 5);
    expect_error(s, huge, big, 414);
    memcpy(huge, "GET / HTTP/1.1\r\nX: ", 19);
    expect_error(s, huge, big, 431);
    free(huge);
    expect_page(s, "/", "<h1>Index page</h1>");
}

/* Finding 3: bytes that cannot be HTTP get 400 at once, without waiting
 * for the end of a head that will never come (the client does not close). */
static void test_garbage_answered_at_once(void **state)
{
    struct sup_server *s = *state;
    static const char nul[] = "GET /\0 HTTP/1.1\r\n";
    static const char *const starts[] = {"\x16\x03\x01", " GET", nul};
    static const size_t lens[] = {3, 4, sizeof nul - 1};
    for (size_t i = 0; i < 3; i++) {
        int fd = sup_connect(s->port, 2000);
        assert_true(fd >= 0);
        assert_int_equal(send(fd, starts[i], lens[i], MSG_NOSIGNAL), (ssize_t)lens[i]);
        char buf[2048];
        ssize_t n = sup_recv_all(fd, buf, sizeof buf, 5000);
        close(fd);
        assert_true(n > 0);
        assert_int_equal(strncmp(buf, "HTTP/1.1 400 ", 13), 0);
    }
}

/* Finding 5: HEAD is GET without the body; an absolute-form target is a
 * path; HTTP/1.1 without Host is 400 (in test_garbage_gets_400). */
static void test_head_and_absolute_form(void **state)
{
    struct sup_server *s = *state;
    char *get = curl(s, "", "/blog");
    char *head = curl(s, "-I", "/blog");
    const char *cl = strstr(get, "\r\nContent-Length: ");
    assert_non_null(cl);
    char want[64];
    snprintf(want, sizeof want, "%.*s", (int)strcspn(cl + 2, "\r"), cl + 2);
    assert_int_equal(strncmp(head, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(head, want));                 /* the GET's length */
    assert_string_equal(strstr(head, "\r\n\r\n"), "\r\n\r\n"); /* no body */
    free(get);
    free(head);
    static const char abs_form[] = "GET http://example.com/blog HTTP/1.1\r\nHost: example.com\r\n\r\n";
    char *r = raw_exchange(s, abs_form, sizeof abs_form - 1);
    assert_int_equal(strncmp(r, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(r, "<h1>Blog page</h1>"));
}

/* Finding 6 (chapter 1): the lingering close drains for at most a second.
 * A client (a child process here) trickles a byte every 50 ms after its
 * reply and never closes; the next client in the queue must still get its
 * page within a few seconds — the server is single-threaded, so before the
 * fix it drained the trickler for ever (65536 bytes at 20 a second). */
static void test_drain_deadline(void **state)
{
    struct sup_server *s = *state;
    int fd = sup_connect(s->port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(sup_send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (int i = 0; i < 120; i++) {          /* 6 s at most */
            if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
                _exit(0);                         /* the server closed */
            sup_sleep_ms(50);
        }
        _exit(0);
    }
    close(fd);
    sup_sleep_ms(300);
    int next = sup_connect(s->port, 2000);
    assert_true(next >= 0);
    assert_int_equal(sup_send_str(next, "GET /blog HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    char buf[4096];
    ssize_t n = sup_recv_all(next, buf, sizeof buf, 4000);
    close(next);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "<h1>Blog page</h1>"));
}

/* The pages are valid HTML: tidy (an HTML checker that is not ours) finds
 * no error and no warning in the index page, the blog page and an error page. */
static void test_html_is_valid(void **state)
{
    struct sup_server *s = *state;
    static const char *const paths[] = {"/", "/blog", "/nope"};
    for (size_t i = 0; i < 3; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "curl -s --max-time 5 'http://127.0.0.1:%d%s' | tidy -q -e 2>&1",
                 s->port, paths[i]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char out[2048];
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        if (status != 0 || n != 0)
            fail_msg("tidy on %s (status %d): %s", paths[i], status, out);
    }
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
    assert_non_null(strstr(log, "Listening on http://127.0.0.1:"));
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
        cmocka_unit_test_setup_teardown(test_garbage_answered_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_absolute_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_is_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rude_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_shows_request_and_address,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("webapp", tests, NULL, NULL);
}
