/* tests/test_loadgen.c — the appendix's load client (measurements/loadgen.c).
 * Against chapter 10's server: every client of an "rps" run is answered and
 * the server's CPU per answer is reported; "hold" holds every connection and
 * reads the server's memory; against chapter 3's select server beyond
 * FD_SETSIZE the refused connections are counted as refused, not held;
 * against chapter 2's process-per-client server the memory of the children
 * is counted too; bad usage exits with status 2. No timing is asserted:
 * only counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

/* Run the loadgen with args to the end (at most timeout_ms); its stdout in
 * *out (malloc'd). Returns its exit status, or -1 (killed after timeout). */
static int run_loadgen(char *const argv[], char **out, int timeout_ms)
{
    char path[256];
    sup_tmp_path(path, sizeof path, "loadgen");
    pid_t pid = sup_spawn("measurements-loadgen", argv, path);
    if (pid < 0)
        return -1;
    int status = -1;
    long long end = sup_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (sup_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            status = -1;
            break;
        }
        sup_sleep_ms(20);
    }
    *out = sup_read_file(path);
    unlink(path);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char server_log[256];   /* output of the server under test */

/* Start a server program on a free port; its output goes to a temp file.
 * 0 and *pid, *port; or -1. */
static int start_server(const char *prog, pid_t *pid, int *port)
{
    static char portbuf[16];
    char *log = server_log;
    *port = sup_free_port();
    snprintf(portbuf, sizeof portbuf, "%d", *port);
    sup_tmp_path(log, sizeof server_log, prog);
    char *argv[] = {(char *)prog, "--port", portbuf, NULL};
    *pid = sup_spawn(prog, argv, log);
    if (*pid < 0)
        return -1;
    if (sup_wait_port(*port, 10000) != 0) {
        sup_stop(*pid, 5000);
        return -1;
    }
    return 0;
}

static void test_rps_answers_every_client(void **state)
{
    (void)state;
    pid_t spid;
    int sport;
    assert_int_equal(start_server("sockets-hello", &spid, &sport), 0);
    char port[16], pid[16];
    snprintf(port, sizeof port, "%d", sport);
    snprintf(pid, sizeof pid, "%d", (int)spid);
    char *argv[] = {"measurements-loadgen", "rps", port, "20", "0.2", "5", pid, NULL};
    char *out = NULL;
    int rc = run_loadgen(argv, &out, 20000);
    int clients = -1, at_once = -1, refused = -1;
    long replies = -1;
    double secs = -1, rps = -1, cpu = -2;
    int n = out ? sscanf(out, "%d %d %d %ld %lf %lf %lf", &clients, &at_once, &refused,
                         &replies, &secs, &rps, &cpu) : 0;
    if (rc != 0 || n != 7)
        fprintf(stderr, "loadgen: rc %d, output: %s\n", rc, out ? out : "(none)");
    int st = sup_stop(spid, 5000);
    unlink(server_log);
    assert_int_equal(st, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 7);
    assert_int_equal(clients, 20);
    assert_int_equal(at_once, 20);
    assert_int_equal(refused, 0);
    assert_true(replies > 20);
    assert_true(cpu >= 0);   /* the server's /proc/PID/stat was read */
    free(out);
}

static void test_hold_counts_held_and_refused(void **state)
{
    (void)state;
    /* chapter 3's select server refuses descriptors >= FD_SETSIZE: with a
       low limit for the server, a few connections are enough to see it */
    if (sup_raise_nofile(2000) != 0)
        skip();   /* the hard limit forbids 1100 client descriptors */
    pid_t spid;
    int sport;
    assert_int_equal(start_server("select-server", &spid, &sport), 0);
    char port[16], pid[16];
    snprintf(port, sizeof port, "%d", sport);
    snprintf(pid, sizeof pid, "%d", (int)spid);
    char *argv[] = {"measurements-loadgen", "hold", port, "1100", pid, "5", NULL};
    char *out = NULL;
    int rc = run_loadgen(argv, &out, 30000);
    int conns = -1, held = -1, refused = -1;
    long before = -2, after = -2, per = -1, kper = -1;
    int n = out ? sscanf(out, "%d %d %d %ld %ld %ld %ld", &conns, &held, &refused, &before,
                         &after, &per, &kper) : 0;
    if (rc != 0 || n != 7)
        fprintf(stderr, "loadgen: rc %d, output: %s\n", rc, out ? out : "(none)");
    int st = sup_stop(spid, 10000);
    unlink(server_log);
    assert_int_equal(st, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 7);
    assert_int_equal(conns, 1100);
    assert_true(held > 1000 && held < 1024);      /* FD_SETSIZE, minus the server's own */
    assert_int_equal(held + refused, 1100);
    assert_true(before > 0 && after > 0);
    free(out);
}

/* A server with a process per client: every connection lives in a child,
 * and the parent alone hardly grows. Counting only the parent's memory
 * would report almost nothing per connection; each child has at least a
 * few private pages of its own (stack, written data). */
static void test_hold_counts_children_of_forking_server(void **state)
{
    (void)state;
    pid_t spid;
    int sport;
    assert_int_equal(start_server("blocking-forks", &spid, &sport), 0);
    char port[16], pid[16];
    snprintf(port, sizeof port, "%d", sport);
    snprintf(pid, sizeof pid, "%d", (int)spid);
    char *argv[] = {"measurements-loadgen", "hold", port, "50", pid, "3", NULL};
    char *out = NULL;
    int rc = run_loadgen(argv, &out, 30000);
    int conns = -1, held = -1, refused = -1;
    long before = -2, after = -2, per = -1, kper = -1;
    int n = out ? sscanf(out, "%d %d %d %ld %ld %ld %ld", &conns, &held, &refused, &before,
                         &after, &per, &kper) : 0;
    if (rc != 0 || n != 7 || per < 8192)
        fprintf(stderr, "loadgen: rc %d, output: %s\n", rc, out ? out : "(none)");
    int st = sup_stop(spid, 10000);
    unlink(server_log);
    assert_int_equal(st, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 7);
    assert_int_equal(held, 50);
    assert_true(per >= 8192);
    free(out);
}

static void test_usage(void **state)
{
    (void)state;
    char *argv[] = {"measurements-loadgen", "fly", "1", "2", "3", NULL};
    char *out = NULL;
    assert_int_equal(run_loadgen(argv, &out, 5000), 2);
    assert_non_null(out);
    assert_non_null(strstr(out, "usage:"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rps_answers_every_client),
        cmocka_unit_test(test_hold_counts_held_and_refused),
        cmocka_unit_test(test_hold_counts_children_of_forking_server),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
