/* The toy generator of chapter 5 (05-generators/toy.c): a heap frame and a
 * switch on the resume point, nothing else. Its output must show the four
 * properties of a Python generator the chapter lists: creating runs nothing,
 * each step resumes where the last stopped, each generator keeps its own
 * frame, and a finished one stays finished. The expected lines are what
 *
 *     def countdown(n):
 *         print("старт")
 *         while n > 0:
 *             yield n
 *             n -= 1
 *
 * prints when two of them, countdown(3) and countdown(2), are stepped in
 * turn four times each, as the toy's main does. */
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

/* Run prog with args, wait at most 10 s; its output (malloc'd), exit status in *status. */
static char *run(const char *prog, char *const argv[], int *status)
{
    char out[256];
    sup_tmp_path(out, sizeof out, prog);
    pid_t pid = sup_spawn(prog, argv, out);
    if (pid < 0)
        return NULL;
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

static void test_toy_steps_two_countdowns_like_python(void **state)
{
    (void)state;
    int status;
    char *got = run("generators-toy", NULL, &status);
    assert_non_null(got);
    assert_int_equal(status, 0);
    assert_string_equal(got,
                        "созданы a = countdown(3) и b = countdown(2)\n"
                        "старт\n"
                        "a: 3\n"
                        "старт\n"
                        "b: 2\n"
                        "a: 2\n"
                        "b: 1\n"
                        "a: 1\n"
                        "b: остановлен\n"
                        "a: остановлен\n"
                        "b: остановлен\n");
    free(got);
}

static void test_toy_rejects_a_bad_option(void **state)
{
    (void)state;
    int status;
    char *argv[] = {"--no-such-option", NULL};
    char *got = run("generators-toy", argv, &status);
    assert_non_null(got);
    assert_int_equal(status, 2);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toy_steps_two_countdowns_like_python),
        cmocka_unit_test(test_toy_rejects_a_bad_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
