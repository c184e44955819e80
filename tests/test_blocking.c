/* tests/test_blocking.c — chapter 02's blocking "Hello world" server.
 * Its defining property is asserted, because it is the lesson: while one
 * client stays connected, a second one gets no reply at all, and gets it
 * as soon as the first leaves. And the fix of the original's flaw: a client
 * that resets the connection or leaves in the middle of the replies does
 * not kill the server. Every test ends with a clean exit (status 0). */
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
#include <unistd.h>

#include "support.h"

#define PROG "blocking-server"
#define HELLO "Hello world!\n"

static int setup(void **state)
{
    static struct sup_server s;
    if (sup_server_start(&s, PROG, "blocking", NULL, 10000) != 0)
        return -1;
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    struct sup_server *s = *state;
    int status = sup_stop(s->pid, 5000);
    if (status != 0) {
        sup_server_show_log(s);
        fprintf(stderr, "server exit status %d, expected 0\n", status);
    }
    unlink(s->log);
    return status == 0 ? 0 : -1;
}

/* Connect, say something, expect exactly the greeting back. */
static int greeted_client(const struct sup_server *s)
{
    int fd = sup_connect(s->port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(sup_send_str(fd, "hi\n"), 0);
    char buf[64];
    ssize_t n = sup_recv_timeout(fd, buf, sizeof buf, 5000);
    if (n != (ssize_t)strlen(HELLO) || strcmp(buf, HELLO) != 0)
        fail_msg("expected the greeting, recv returned %zd: \"%s\"", n,
                 n > 0 ? buf : "");
    return fd;
}

static void test_one_client_many_messages(void **state)
{
    struct sup_server *s = *state;
    int fd = greeted_client(s);
    char buf[64];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sup_send_str(fd, "again\n"), 0);
        assert_int_equal(sup_recv_timeout(fd, buf, sizeof buf, 5000),
                         (ssize_t)strlen(HELLO));
        assert_string_equal(buf, HELLO);
    }
    close(fd);
    assert_int_equal(sup_wait_output(s->log, "Outside inner while loop", 5000), 0);
    char *log = sup_read_file(s->log);
    assert_non_null(log);
    /* The original's lines, in the original's order. */
    const char *a = strstr(log, "Before .accept()\n");
    const char *c = strstr(log, "Connection from: ('127.0.0.1', ");
    const char *r = strstr(log, "Before .recv()\n");
    const char *o = strstr(log, "Outside inner while loop\n");
    assert_true(a && c && r && o && a < c && c < r && r < o);
    free(log);
}

/* The lesson of chapter 2, asserted. */
static void test_second_client_waits_for_first(void **state)
{
    struct sup_server *s = *state;
    int first = greeted_client(s);
    int second = sup_connect(s->port, 2000);
    assert_true(second >= 0); /* the kernel accepted it into the backlog */
    assert_int_equal(sup_send_str(second, "me too\n"), 0);
    char buf[64];
    /* No reply while the first client stays connected... */
    assert_int_equal(sup_recv_timeout(second, buf, sizeof buf, 500), -ETIMEDOUT);
    /* ...though the first one is still served... */
    assert_int_equal(sup_send_str(first, "still here\n"), 0);
    assert_int_equal(sup_recv_timeout(first, buf, sizeof buf, 5000),
                     (ssize_t)strlen(HELLO));
    assert_int_equal(sup_recv_timeout(second, buf, sizeof buf, 300), -ETIMEDOUT);
    /* ...and the reply comes once the first leaves. */
    close(first);
    assert_int_equal(sup_recv_timeout(second, buf, sizeof buf, 5000),
                     (ssize_t)strlen(HELLO));
    assert_string_equal(buf, HELLO);
    close(second);
}

static void test_reset_does_not_kill_server(void **state)
{
    struct sup_server *s = *state;
    struct linger lg = {1, 0}; /* close() sends RST instead of FIN */
    for (int i = 0; i < 3; i++) {
        int fd = greeted_client(s);
        if (i > 0)
            sup_send_str(fd, "and goodbye\n");
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }
    int fd = sup_connect(s->port, 2000); /* reset before a single word */
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    close(greeted_client(s));
}

/* The original's crash: the client leaves while replies are still being
 * sent. Here it floods the server and closes without reading anything, so
 * the server's send meets a closed connection (EPIPE or ECONNRESET). */
static void test_client_leaving_mid_reply(void **state)
{
    struct sup_server *s = *state;
    for (int round = 0; round < 3; round++) {
        int fd = sup_connect(s->port, 2000);
        assert_true(fd >= 0);
        char chunk[4096];
        memset(chunk, 'x', sizeof chunk);
        for (int i = 0; i < 64; i++)
            if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0)
                break;
        close(fd);
    }
    close(greeted_client(s));
    assert_int_equal(sup_wait_output(s->log, "Outside inner while loop", 5000), 0);
}

static void test_clean_exit_while_client_connected(void **state)
{
    struct sup_server *s = *state;
    int fd = greeted_client(s); /* the server sleeps in recv() for us */
    int status = sup_stop(s->pid, 5000);
    s->pid = 0;
    close(fd);
    if (status != 0)
        sup_server_show_log(s);
    assert_int_equal(status, 0);
}

static int teardown_stopped(void **state)
{
    struct sup_server *s = *state;
    if (s->pid > 0)
        return teardown(state);
    unlink(s->log);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_client_many_messages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_second_client_waits_for_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_does_not_kill_server, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_leaving_mid_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clean_exit_while_client_connected,
                                        setup, teardown_stopped),
    };
    return cmocka_run_group_tests_name("blocking", tests, NULL, NULL);
}
