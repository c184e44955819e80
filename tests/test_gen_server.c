/* The generator server of chapter 5 (Beazley's scheduler): many clients
 * served interleaved, a client leaving mid-conversation changes nothing,
 * a clean exit on SIGTERM and SIGINT. */
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

#define PROG "generators-server"
static const char reply[] = "Hello world!\n";

static int start(void **state)
{
    struct sup_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(sup_server_start(s, PROG, "gen-server", NULL, 5000), 0);
    *state = s;
    return 0;
}

static int stop(void **state)
{
    struct sup_server *s = *state;
    if (s->pid > 0)
        sup_stop(s->pid, 5000);
    unlink(s->log);
    free(s);
    return 0;
}

static void ask(int fd, const char *what)
{
    char buf[64];
    assert_int_equal(sup_send_str(fd, what), 0);
    assert_int_equal(sup_recv_timeout(fd, buf, sizeof buf, 5000), (ssize_t)strlen(reply));
    assert_string_equal(buf, reply);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Wait until the server's output holds at least n copies of needle. */
static int wait_count(const char *path, const char *needle, int n)
{
    long long deadline = sup_now_ms() + 10000;
    int seen = 0;
    do {
        char *text = sup_read_file(path);
        seen = text ? count(text, needle) : 0;
        free(text);
        if (seen >= n)
            return seen;
        sup_sleep_ms(20);
    } while (sup_now_ms() < deadline);
    return seen;
}

enum { CLIENTS = 200 };

static void test_serves_200_clients_interleaved(void **state)
{
    struct sup_server *s = *state;
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = sup_connect(s->port, 5000);
        assert_true(fds[i] >= 0);
    }
    /* the first client stays silent; everybody else is served meanwhile */
    for (int i = 1; i < CLIENTS; i++)
        assert_int_equal(sup_send_str(fds[i], "hi\n"), 0);
    for (int i = 1; i < CLIENTS; i++) {
        char buf[64];
        assert_int_equal(sup_recv_timeout(fds[i], buf, sizeof buf, 5000), (ssize_t)strlen(reply));
        assert_string_equal(buf, reply);
    }
    for (int i = CLIENTS - 1; i >= 1; i--)
        ask(fds[i], "again\n"); /* a second round, in the other order */
    ask(fds[0], "at last\n");
    assert_int_equal(wait_count(s->log, "Connection from: ('127.0.0.1', ", CLIENTS), CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        close(fds[i]);
    assert_int_equal(wait_count(s->log, "Done!\n", CLIENTS), CLIENTS);
    assert_int_equal(sup_stop(s->pid, 5000), 0);
    s->pid = 0;
}

static void test_client_leaving_mid_conversation(void **state)
{
    struct sup_server *s = *state;
    int stay = sup_connect(s->port, 5000);
    assert_true(stay >= 0);
    ask(stay, "one\n");
    /* one leaves with a request in flight, without reading the answer */
    int rude = sup_connect(s->port, 5000);
    assert_true(rude >= 0);
    assert_int_equal(sup_send_str(rude, "bye\n"), 0);
    close(rude);
    /* another one resets the connection (RST) */
    int reset = sup_connect(s->port, 5000);
    assert_true(reset >= 0);
    ask(reset, "x\n");
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(reset, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(sup_send_str(reset, "y\n"), 0);
    close(reset);
    assert_int_equal(wait_count(s->log, "Done!\n", 2), 2);
    ask(stay, "two\n"); /* the first client does not notice */
    int late = sup_connect(s->port, 5000);
    assert_true(late >= 0);
    ask(late, "late\n"); /* and the server still accepts */
    close(late);
    close(stay);
    assert_int_equal(sup_stop(s->pid, 5000), 0);
    s->pid = 0;
}

static void test_exit_status_zero_on_sigterm_with_clients(void **state)
{
    struct sup_server *s = *state;
    int a = sup_connect(s->port, 5000), b = sup_connect(s->port, 5000);
    assert_true(a >= 0 && b >= 0);
    ask(a, "x\n");
    assert_int_equal(sup_send_str(b, "half a request"), 0);
    assert_int_equal(wait_count(s->log, "Connection from", 2), 2);
    assert_int_equal(sup_stop(s->pid, 5000), 0); /* everything freed: LSan is quiet */
    s->pid = 0;
    char buf[64];
    assert_int_equal(sup_recv_timeout(a, buf, sizeof buf, 5000), 0); /* sockets closed */
    close(a);
    close(b);
}

static void test_exit_status_zero_on_sigint(void **state)
{
    struct sup_server *s = *state;
    int a = sup_connect(s->port, 5000);
    assert_true(a >= 0);
    ask(a, "x\n");
    assert_int_equal(kill(s->pid, SIGINT), 0);
    int st = 0;
    long long deadline = sup_now_ms() + 5000;
    pid_t done;
    while ((done = waitpid(s->pid, &st, WNOHANG)) == 0 && sup_now_ms() < deadline)
        sup_sleep_ms(10);
    if (done != s->pid)
        kill(s->pid, SIGKILL), waitpid(s->pid, &st, 0);
    s->pid = 0;
    close(a);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_busy_port_is_a_clear_error(void **state)
{
    struct sup_server *s = *state;
    char port[16], out[256];
    snprintf(port, sizeof port, "%d", s->port);
    char *argv[] = {PROG, "--port", port, NULL};
    sup_tmp_path(out, sizeof out, "gen-server-busy");
    pid_t pid = sup_spawn(PROG, argv, out);
    assert_true(pid > 0);
    int st = 0;
    long long deadline = sup_now_ms() + 5000;
    pid_t done;
    while ((done = waitpid(pid, &st, WNOHANG)) == 0 && sup_now_ms() < deadline)
        sup_sleep_ms(10);
    if (done != pid)
        kill(pid, SIGKILL), waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_not_equal(WEXITSTATUS(st), 0);
    char *text = sup_read_file(out);
    assert_non_null(text);
    assert_non_null(strstr(text, "Address already in use"));
    free(text);
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serves_200_clients_interleaved, start, stop),
        cmocka_unit_test_setup_teardown(test_client_leaving_mid_conversation, start, stop),
        cmocka_unit_test_setup_teardown(test_exit_status_zero_on_sigterm_with_clients, start, stop),
        cmocka_unit_test_setup_teardown(test_exit_status_zero_on_sigint, start, stop),
        cmocka_unit_test_setup_teardown(test_busy_port_is_a_clear_error, start, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
