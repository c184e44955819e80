/* Programs of our asyncio (chapters 9 and 10) against real clients: the nums demo's exact output,
 * the coroutine "Hello world!" server with 1,000 clients at once, the web
 * app with keep-alive, an idle timeout, curl and ab; every program exits
 * 0 on SIGTERM (under ASan this also means: nothing leaked). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

/* ---- nums ---- */

static void test_nums_three_seconds_exact_output(void **state)
{
    (void)state;
    char out[256];
    sup_tmp_path(out, sizeof out, "nums");
    char *argv[] = {"tasks-nums", "--seconds", "3", NULL};
    pid_t pid = sup_spawn("tasks-nums", argv, out);
    assert_true(pid > 0);
    int status = -1;
    for (int i = 0; i < 200; i++) { /* at most 20 s */
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        sup_sleep_ms(100);
    }
    if (!WIFEXITED(status))
        sup_stop(pid, 1000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char want[512] = "1\n0 seconds have passed\n";
    for (int n = 2; n <= 30; n++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%d\n", n);
    strcat(want, "3 seconds have passed\n");
    char *got = sup_read_file(out);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    unlink(out);
}

static void test_nums_stops_cleanly_on_sigterm(void **state)
{
    (void)state;
    char out[256];
    sup_tmp_path(out, sizeof out, "nums-term");
    pid_t pid = sup_spawn("tasks-nums", NULL, out);
    assert_true(pid > 0);
    assert_int_equal(sup_wait_output(out, "3\n", 10000), 0);
    assert_int_equal(sup_stop(pid, 5000), 0);
    unlink(out);
}

/* ---- the Hello world server ---- */

/* prog on a free port; extra, if any, is an option that takes 0.5 */
static int start(struct sup_server *s, const char *prog, const char *extra)
{
    char *args[] = {(char *)extra, "0.5", NULL};
    return sup_server_start(s, prog, prog + 11, extra ? args : NULL, 10000);
}

static void stop(struct sup_server *s)
{
    int status = sup_stop(s->pid, 10000);
    char *log = sup_read_file(s->log);
    if (status != 0 || (log && strstr(log, "nobody awaited")))
        printf("server log:\n%s\n", log ? log : "(none)");
    free(log);
    unlink(s->log);
    assert_int_equal(status, 0);
}

static void test_server_serves_one_client_many_times(void **state)
{
    (void)state;
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-hello", NULL), 0);
    int fd = sup_connect(s.port, 2000);
    assert_true(fd >= 0);
    char buf[64];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sup_send_str(fd, "hi\n"), 0);
        assert_int_equal(sup_recv_timeout(fd, buf, sizeof buf, 5000), 13);
        assert_string_equal(buf, "Hello world!\n");
    }
    close(fd);
    assert_int_equal(sup_wait_output(s.log, "Connection from: ('127.0.0.1', ", 5000), 0);
    stop(&s);
}

static void test_server_thousand_concurrent_clients(void **state)
{
    (void)state;
    enum { N = 1000 };
    if (sup_raise_nofile(N + 64) != 0) {
        printf("RLIMIT_NOFILE cannot be raised to %d: cannot open %d sockets\n",
               N + 64, N);
        fail();
    }
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-hello", NULL), 0);
    static int fds[N];
    int ok = 0;
    for (int i = 0; i < N; i++) { /* all connected at the same time */
        fds[i] = sup_connect(s.port, 5000);
        assert_true(fds[i] >= 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(sup_send_str(fds[i], "hello\n"), 0);
    for (int i = N - 1; i >= 0; i--) { /* answered in any order */
        char buf[64];
        if (sup_recv_timeout(fds[i], buf, sizeof buf, 10000) == 13
            && strcmp(buf, "Hello world!\n") == 0)
            ok++;
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    assert_int_equal(ok, N);
    stop(&s);
}

static void test_server_survives_rude_clients(void **state)
{
    (void)state;
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-hello", NULL), 0);
    for (int i = 0; i < 20; i++) { /* reset with data unread */
        int fd = sup_connect(s.port, 2000);
        assert_true(fd >= 0);
        sup_send_str(fd, "x\n");
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }
    int fd = sup_connect(s.port, 2000);
    char buf[64];
    assert_int_equal(sup_send_str(fd, "still there?\n"), 0);
    assert_int_equal(sup_recv_timeout(fd, buf, sizeof buf, 5000), 13);
    close(fd);
    stop(&s);
}

/* ---- the web app ---- */

static void test_webapp_keep_alive_two_requests_one_connection(void **state)
{
    (void)state;
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-webapp", NULL), 0);
    int fd = sup_connect(s.port, 2000);
    assert_true(fd >= 0);
    char buf[4096];
    assert_int_equal(sup_send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_true(sup_recv_timeout(fd, buf, sizeof buf, 5000) > 0);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "Connection: keep-alive\r\n"));
    assert_non_null(strstr(buf, "<h1>Index page</h1>"));
    assert_int_equal(sup_send_str(fd, "GET /blog HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_true(sup_recv_timeout(fd, buf, sizeof buf, 5000) > 0);
    assert_non_null(strstr(buf, "<h1>Blog page</h1>")); /* same socket */
    /* pipelined: two requests in one segment, the last one closes */
    assert_int_equal(sup_send_str(fd, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                                      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 0);
    ssize_t n = sup_recv_all(fd, buf, sizeof buf, 5000);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "404 Not Found"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_non_null(strstr(buf, "<h1>Index page</h1>"));
    close(fd);
    stop(&s);
}

static void test_webapp_idle_connection_is_closed(void **state)
{
    (void)state;
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-webapp", "--idle-timeout"), 0);
    int fd = sup_connect(s.port, 2000);
    assert_true(fd >= 0);
    char buf[64];
    /* says nothing: after 0.5 s of silence the server hangs up (EOF) */
    assert_int_equal(sup_recv_timeout(fd, buf, sizeof buf, 10000), 0);
    close(fd);
    stop(&s);
}

static void test_webapp_bad_request_and_many_clients_at_once(void **state)
{
    (void)state;
    enum { N = 100 };
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-webapp", NULL), 0);
    int fds[N];
    for (int i = 0; i < N; i++) { /* all connected, each half a request */
        fds[i] = sup_connect(s.port, 2000);
        assert_true(fds[i] >= 0);
        assert_int_equal(sup_send_str(fds[i], i % 2 ? "GET /blog HT" : "garbage\r"), 0);
    }
    for (int i = 0; i < N; i++) {
        char buf[4096];
        assert_int_equal(sup_send_str(fds[i], i % 2 ? "TP/1.0\r\n\r\n" : "\n\r\n"), 0);
        assert_true(sup_recv_all(fds[i], buf, sizeof buf, 5000) > 0);
        assert_non_null(strstr(buf, i % 2 ? "<h1>Blog page</h1>" : "400 Bad Request"));
        close(fds[i]);
    }
    stop(&s);
}

static int run_tool(const char *cmd, const char *out, const char *needle)
{
    char line[1024];
    snprintf(line, sizeof line, "%s >%s 2>&1", cmd, out);
    int rc = system(line);
    char *text = sup_read_file(out);
    int found = text != NULL && strstr(text, needle) != NULL;
    if (!found || rc != 0)
        printf("%s\n%s\n", line, text ? text : "(no output)");
    free(text);
    unlink(out);
    return rc == 0 && found ? 0 : -1;
}

static void test_webapp_answers_curl_and_ab(void **state)
{
    (void)state;
    struct sup_server s;
    assert_int_equal(start(&s, "sockets-webapp", NULL), 0);
    char cmd[512], out[256];
    sup_tmp_path(out, sizeof out, "tool");
    snprintf(cmd, sizeof cmd,
             "timeout 20 curl -sS --max-time 10 http://127.0.0.1:%d/ http://127.0.0.1:%d/blog",
             s.port, s.port);
    assert_int_equal(run_tool(cmd, out, "<h1>Blog page</h1>"), 0);
    if (system("command -v ab >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd,
                 "timeout 60 ab -k -n 5000 -c 100 http://127.0.0.1:%d/", s.port);
        assert_int_equal(run_tool(cmd, out, "Failed requests:        0"), 0);
        assert_int_equal(run_tool(cmd, out, "Keep-Alive requests:    5000"), 0);
        snprintf(cmd, sizeof cmd,
                 "timeout 60 ab -n 2000 -c 50 http://127.0.0.1:%d/blog", s.port);
        assert_int_equal(run_tool(cmd, out, "Failed requests:        0"), 0);
    } else {
        printf("ab (apache2-utils) is not installed: only curl was checked\n");
    }
    stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nums_three_seconds_exact_output),
        cmocka_unit_test(test_nums_stops_cleanly_on_sigterm),
        cmocka_unit_test(test_server_serves_one_client_many_times),
        cmocka_unit_test(test_server_thousand_concurrent_clients),
        cmocka_unit_test(test_server_survives_rude_clients),
        cmocka_unit_test(test_webapp_keep_alive_two_requests_one_connection),
        cmocka_unit_test(test_webapp_idle_connection_is_closed),
        cmocka_unit_test(test_webapp_bad_request_and_many_clients_at_once),
        cmocka_unit_test(test_webapp_answers_curl_and_ab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
