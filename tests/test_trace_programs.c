/* tests/test_trace_programs.c — traces of real programs (appendix А,
 * «Трасса»). Every program on a loop takes --trace FILE (listed in its
 * --help; a file it cannot create is a bad option: exit 2). The traces
 * of three runs are checked by tests/trace_check.py (valid JSON, fields,
 * nesting, time per lane) and against the order each program is known to
 * have — the oracle is the program's specification in its chapter, not
 * the code that writes the trace:
 *   - the round-robin of chapter 5 prints "h 0 e 1 l 2 l 3 o": its steps
 *     alternate letters, numbers; the numbers end on their fifth step, the
 *     letters step once more alone (to yield "o") and end on the next;
 *   - nums --seconds 1 (the seed's print_nums/print_time): main first, then
 *     the two tasks in the order they were created; print_nums steps 11
 *     times (10 numbers, then it ends), print_time twice (0 s, then ends at
 *     1 s), and between these two steps fall the print_nums steps of
 *     0.1..0.9 s (nine, and maybe the one due at 1 s: the tie is timing);
 *     main's last step, after gather, comes after every other step;
 *   - one request to the web app of chapter 10: accept on the listening
 *     socket, recv on the client's socket, route inside a step of the
 *     client's coroutine, sendall, in this order.
 * Every run is bounded (a program still running after 10 s fails). */
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

/* Wait for pid to exit by itself within timeout_ms; its exit status, or
   -1 (then it is stopped). */
static int finish(pid_t pid, int timeout_ms)
{
    long long deadline = sup_now_ms() + timeout_ms;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (sup_now_ms() > deadline) {
            sup_stop(pid, 1000);
            return -1;
        }
        sup_sleep_ms(10);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* trace_check.py on path with mode (--slices or --events): its output,
   malloc'd; fails the test if the checker refuses the trace. */
static char *check(const char *path, const char *mode)
{
    char cmd[1024], res[256];
    sup_tmp_path(res, sizeof res, "trace-check");
    snprintf(cmd, sizeof cmd, "python3 tests/trace_check.py '%s' %s >'%s' 2>&1", path, mode, res);
    int st = system(cmd);
    char *out = sup_read_file(res);
    unlink(res);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("trace_check refused %s:\n%s", path, out ? out : "(no output)");
    return out;
}

/* The steps of coroutines in a --slices output, one letter each, in the
   order they began: a slice named like its lane is a step (the loop's
   select and the fd waits are not); letter = first letter of the name,
   or '?' for an unknown name. names: "main_body=m print_nums_body=n". */
static void steps(const char *slices, const char *names, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *line = slices; line && *line && n + 1 < cap;) {
        const char *tab = strchr(line, '\t'), *eol = strchr(line, '\n');
        if (tab == NULL || eol == NULL)
            break;
        size_t len = (size_t)(tab - line);
        if (strncmp(line, tab + 1, len) == 0 && tab[1 + len] == '\t') {
            char key[64];
            snprintf(key, sizeof key, "%.*s=", (int)len, line);
            const char *k = strstr(names, key);
            out[n++] = k != NULL ? k[strlen(key)] : '?';
        }
        line = eol + 1;
    }
    out[n] = '\0';
}

static void test_loop_programs_take_trace(void **state)
{
    (void)state;
    static const char *progs[] = {"generators-roundrobin", "event-loop-toy", "tasks-nums",
                                  "sockets-hello", "sockets-webapp", "images-download",
                                  "images-imageserver"};
    char out[256];
    sup_tmp_path(out, sizeof out, "trace-help");
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++) {
        pid_t pid = sup_spawn(progs[i], (char *[]){"--help", NULL}, out);
        assert_true(pid > 0);
        assert_int_equal(finish(pid, 10000), 0);
        char *help = sup_read_file(out);
        if (help == NULL || strstr(help, "--trace FILE") == NULL)
            fail_msg("%s --help does not list --trace FILE:\n%s", progs[i], help);
        free(help);
        pid = sup_spawn(progs[i], (char *[]){"--trace", "/nonexistent/dir/t.json", NULL}, out);
        assert_true(pid > 0);
        int rc = finish(pid, 10000);
        char *err = sup_read_file(out);
        if (rc != 2 || err == NULL || strstr(err, "--trace /nonexistent/dir/t.json") == NULL)
            fail_msg("%s --trace into a missing directory: exit %d, output:\n%s", progs[i], rc,
                     err);
        free(err);
    }
    unlink(out);
}

/* Run prog with args and --trace into a file; the file's --slices or
   --events (mode) as checked by trace_check.py. */
static char *traced_run(const char *prog, const char *arg, const char *mode)
{
    char path[256], out[256];
    sup_tmp_path(path, sizeof path, "trace.json");
    sup_tmp_path(out, sizeof out, "trace-out");
    pid_t pid = sup_spawn(prog, (char *[]){"--trace", path, (char *)arg, arg ? "1" : NULL, NULL},
                          out);
    assert_true(pid > 0);
    int rc = finish(pid, 10000);
    if (rc != 0) {
        char *o = sup_read_file(out);
        fail_msg("%s exited with %d:\n%s", prog, rc, o);
    }
    char *res = check(path, mode);
    unlink(path);
    unlink(out);
    return res;
}

static void test_roundrobin_trace_alternates(void **state)
{
    (void)state;
    char *slices = traced_run("generators-roundrobin", NULL, "--slices");
    char seq[64];
    steps(slices, "letters_body=L numbers_body=N", seq, sizeof seq);
    if (strcmp(seq, "LNLNLNLNLNL") != 0)
        fail_msg("steps %s, want LNLNLNLNLNL; trace:\n%s", seq, slices);
    free(slices);
}

static void test_nums_trace_interleaves(void **state)
{
    (void)state;
    char *slices = traced_run("tasks-nums", "--seconds", "--slices");
    char seq[128];
    steps(slices, "main_body=m print_nums_body=n print_time_body=t", seq, sizeof seq);
    /* main, then the tasks in the order of creation */
    int ok = strncmp(seq, "mnt", 3) == 0;
    /* 11 steps of print_nums, 2 of print_time, 2 of main, nothing else */
    size_t n = 0, t = 0, m = 0;
    for (const char *p = seq; *p; p++)
        n += *p == 'n', t += *p == 't', m += *p == 'm';
    ok = ok && n == 11 && t == 2 && m == 2 && strlen(seq) == 15;
    /* between the two print_time steps: the print_nums steps of 0.1..0.9 s,
       and perhaps the one of 1 s */
    const char *t1 = strchr(seq, 't'), *t2 = t1 ? strchr(t1 + 1, 't') : NULL;
    ok = ok && t2 != NULL && (t2 - t1 - 1 == 9 || t2 - t1 - 1 == 10);
    /* main ends after gather: its last step is the last step of all */
    ok = ok && seq[strlen(seq) - 1] == 'm';
    if (!ok)
        fail_msg("steps %s, want m n t, nine or ten n, t, the rest of n, m; trace:\n%s", seq,
                 slices);
    free(slices);
}

static void test_webapp_request_trace(void **state)
{
    (void)state;
    char path[256];
    sup_tmp_path(path, sizeof path, "web-trace.json");
    struct sup_server s;
    assert_int_equal(sup_server_start(&s, "sockets-webapp", "trace-web",
                                      (char *[]){"--trace", path, NULL}, 5000), 0);
    int fd = sup_connect(s.port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(sup_send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 0);
    char buf[8192];
    ssize_t got = sup_recv_all(fd, buf, sizeof buf - 1, 3000);
    close(fd);
    assert_true(got > 0);
    assert_int_equal(sup_stop(s.pid, 5000), 0);
    char *events = check(path, "--events");
    const char *want[] = {"\taccept\t", "\trecv\t", "conn_body\troute\t", "\tsendall\t"};
    const char *p = events;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const char *q = strstr(p, want[i]);
        if (q == NULL)
            fail_msg("%s missing or out of order (want accept, recv, route, sendall):\n%s",
                     want[i], events);
        p = q + strlen(want[i]);
    }
    free(events);
    unlink(path);
    unlink(s.log);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_programs_take_trace),
        cmocka_unit_test(test_roundrobin_trace_alternates),
        cmocka_unit_test(test_nums_trace_interleaves),
        cmocka_unit_test(test_webapp_request_trace),
    };
    return cmocka_run_group_tests_name("trace_programs", tests, NULL, NULL);
}
