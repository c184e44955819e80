/* tests/test_trace.c — the trace writer of appendix А (lib/trace.h). The
 * judge is not the writer: CPython's json module parses what it wrote, and
 * tests/trace_check.py checks the rules of the Trace Event Format (fields,
 * nesting per lane, time never going back). Names that need escaping come
 * out as they went in; with the trace closed, TRACE writes nothing and does
 * not even evaluate its arguments; a trace the checker must refuse is
 * refused (so the checker can fail too); slices still open at the close
 * (a server's listening socket) are closed by trace_close. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "trace.h"

/* Run tests/trace_check.py on path with --slices; its stdout in *out
 * (malloc'd). Returns its exit status. */
static int check(const char *path, char **out)
{
    char cmd[1024], res[256];
    sup_tmp_path(res, sizeof res, "trace-check");
    snprintf(cmd, sizeof cmd, "python3 tests/trace_check.py '%s' --slices >'%s' 2>&1", path, res);
    int st = system(cmd);
    *out = sup_read_file(res);
    unlink(res);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int evaluated;
static const char *counted(const char *s)
{
    evaluated++;
    return s;
}

static void test_nested_slices_on_two_lanes(void **state)
{
    (void)state;
    char path[256];
    sup_tmp_path(path, sizeof path, "trace.json");
    assert_int_equal(trace_open("/nonexistent-dir/trace.json"), -ENOENT);
    assert_int_equal(trace_open(path), 0);
    assert_int_equal(trace_open(path), -EBUSY);
    TRACE(lane(1, "print_nums"));
    TRACE(lane(2, "say \"hi\"\\\n"));
    TRACE(begin(1, "step"));
    TRACE(begin(1, "inner"));
    TRACE(instant(1, "timer", "0.1 s"));
    TRACE(end(1));
    TRACE(end(1));
    TRACE(begin(2, "step"));
    TRACE(instant(2, "done", NULL));
    TRACE(end(2));
    assert_int_equal(trace_close(), 0);
    char *out = NULL;
    int rc = check(path, &out);
    if (rc != 0)
        fprintf(stderr, "%s", out ? out : "(no output)\n");
    assert_int_equal(rc, 0);
    /* slices in the order they began, with the lane names as written */
    const char *want[] = {"print_nums\tstep\t", "print_nums\tinner\t", "say \"hi\"\\\n\tstep\t"};
    const char *p = out;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const char *q = strstr(p, want[i]);
        if (q == NULL)
            fail_msg("slice %zu (%s) missing or out of order in:\n%s", i, want[i], out);
        p = q + strlen(want[i]);
    }
    free(out);
    unlink(path);
}

static void test_closed_trace_costs_one_branch(void **state)
{
    (void)state;
    evaluated = 0;
    assert_int_equal(trace_enabled, 0);
    TRACE(begin(1, counted("never")));
    TRACE(end(1));
    assert_int_equal(evaluated, 0);
    assert_int_equal(trace_close(), 0);     /* closing a closed trace is fine */
}

static void test_checker_refuses_broken_traces(void **state)
{
    (void)state;
    static const char *bad[] = {
        "{\"traceEvents\":[{\"ph\":\"E\",\"ts\":1,\"pid\":1,\"tid\":1}]}",
        "{\"traceEvents\":[{\"ph\":\"B\",\"ts\":1,\"pid\":1,\"tid\":1,\"name\":\"a\"}]}",
        "{\"traceEvents\":[{\"ph\":\"i\",\"ts\":5,\"pid\":1,\"tid\":1,\"name\":\"a\"},"
        "{\"ph\":\"i\",\"ts\":4,\"pid\":1,\"tid\":1,\"name\":\"b\"}]}",
        "{\"traceEvents\":[{\"ph\":\"B\",\"ts\":1,\"pid\":1,\"tid\":1,\"name\":\"a\"},]}",
        "[{\"ph\":\"i\",\"ts\":1,\"pid\":1,\"tid\":1,\"name\":\"a\"}]",
    };
    char path[256];
    sup_tmp_path(path, sizeof path, "bad.json");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        char *out = NULL;
        if (check(path, &out) != 1)
            fail_msg("checker accepted broken trace %zu: %s", i, bad[i]);
        free(out);
    }
    unlink(path);
}

/* A slice still open when the trace closes (a server's listening socket
   waits for its whole life) is closed by trace_close, so the trace stays
   valid; fd lanes are named "fd N read" / "fd N write", and new lanes are
   numbered apart. */
static void test_close_ends_open_slices(void **state)
{
    (void)state;
    char path[256];
    sup_tmp_path(path, sizeof path, "open.json");
    assert_int_equal(trace_open(path), 0);
    int a = 0, b = 0;
    TRACE(new_lane(&a, "server"));
    TRACE(new_lane(&b, "client"));
    assert_true(a > 0 && b > 0 && a != b);
    TRACE(begin(a, "outer"));
    TRACE(begin(a, "inner"));
    TRACE(fd_begin(7, 0));
    TRACE(fd_begin(7, 1));
    TRACE(fd_end(7, 1));
    TRACE(fd_event(7, 1, "sendall"));
    assert_int_equal(trace_close(), 0);
    char *out = NULL;
    int rc = check(path, &out);
    if (rc != 0)
        fail_msg("trace with slices left open at close refused:\n%s", out ? out : "");
    const char *want[] = {"server\touter\t", "server\tinner\t", "fd 7 read\twait\t",
                          "fd 7 write\twait\t"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (strstr(out, want[i]) == NULL)
            fail_msg("slice %s missing in:\n%s", want[i], out);
    free(out);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_slices_on_two_lanes),
        cmocka_unit_test(test_closed_trace_costs_one_branch),
        cmocka_unit_test(test_checker_refuses_broken_traces),
        cmocka_unit_test(test_close_ends_open_slices),
    };
    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
