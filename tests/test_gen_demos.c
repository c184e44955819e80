/* The demo programs of chapters 5-7 print exactly what the Python originals
 * print: each one is run from $BOOK_BIN and its output compared line by
 * line with the expected text. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

/* Run prog with args, wait (bounded) for it to exit; its output, malloc'd. */
static char *run_demo(const char *prog, char *const argv[], int *status)
{
    char out[256];
    sup_tmp_path(out, sizeof out, prog);
    pid_t pid = sup_spawn(prog, argv, out);
    if (pid < 0) {
        fprintf(stderr, "cannot start %s: %s\n", prog, strerror((int)-pid));
        return NULL;
    }
    int st = 0;
    long long deadline = sup_now_ms() + 10000;
    pid_t done;
    while ((done = waitpid(pid, &st, WNOHANG)) == 0 && sup_now_ms() < deadline)
        sup_sleep_ms(10);
    if (done != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        *status = -1;
    } else {
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    char *text = sup_read_file(out);
    unlink(out);
    return text;
}

/* Compare line by line, so that a failure names the first differing line. */
static void assert_lines(const char *got, const char *const want[])
{
    const char *p = got;
    for (size_t i = 0; want[i] != NULL; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        char line[256];
        size_t len = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        assert_string_equal(line, want[i]);
        p = nl + 1;
    }
    assert_string_equal(p, ""); /* nothing more */
}

static void check_demo(const char *prog, char *const argv[], const char *const want[])
{
    int status;
    char *got = run_demo(prog, argv, &status);
    assert_non_null(got);
    assert_int_equal(status, 0);
    assert_lines(got, want);
    free(got);
}

static void test_roundrobin_interleaves_two_generators(void **state)
{
    (void)state;
    const char *const want[] = {"h", "0", "e", "1", "l", "2", "l", "3", "o", NULL};
    check_demo("generators-roundrobin", NULL, want);
}

static void test_coroutines_demo_prints_as_original(void **state)
{
    (void)state;
    const char *const want[] = {
        "Ready to accept message", "Sub_gen received: Hello world!",
        "5.0", "4.5", "6.33", "My exception!", "Total average: 6.33", NULL};
    check_demo("coroutines-demo", NULL, want);
}

static const char *const delegation_want[] = {
    "My message", "My message 2", "Return from sub_gen()", "t", "i", "m", NULL};

static void test_delegation_demo_prints_as_original(void **state)
{
    (void)state;
    check_demo("delegation-demo", NULL, delegation_want);
}

static void test_delegation_by_hand_prints_the_same(void **state)
{
    (void)state;
    char *argv[] = {"--by-hand", NULL};
    check_demo("delegation-demo", argv, delegation_want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundrobin_interleaves_two_generators),
        cmocka_unit_test(test_coroutines_demo_prints_as_original),
        cmocka_unit_test(test_delegation_demo_prints_as_original),
        cmocka_unit_test(test_delegation_by_hand_prints_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
