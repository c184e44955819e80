/* The toy asyncio of chapter 8 (08-event-loop/toy.c) against the library
 * (chapters 8-10): the same program, the same scenario coroutines, two
 * asyncios under them. The toy's own test checks that its two coroutines
 * interleave (order of lines only, no timing). Then each scenario is run
 * on both programs, "event-loop-toy" and "tasks-nums", and one property is
 * checked on both: it must fail on the toy (that is the weakness the
 * chapter shows) and hold on the library (that is what the library adds).
 * A property that held on the toy would mean the book's motivation is
 * false; one that failed on the library, a bug. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

static const char *const TOY = "event-loop-toy", *const LIB = "tasks-nums";

/* Wait up to 20 s for pid to end by itself: its exit status, 128+signal
 * if a signal ended it, or -1 if it had to be killed. */
static int reap(pid_t pid)
{
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sup_sleep_ms(100);
    }
    sup_stop(pid, 1000);
    return -1;
}

/* Run prog with args (NULL-terminated, without argv[0]) to completion,
 * at most 20 s; its output in *out (malloc'd), its exit status returned
 * (128+signal if a signal ended it, -1 if it had to be killed). */
static int run(const char *prog, char *const args[], char **out)
{
    char path[256], *argv[8] = {(char *)prog};
    for (int i = 0; args[i] != NULL && i < 6; i++)
        argv[i + 1] = args[i];
    sup_tmp_path(path, sizeof path, prog);
    pid_t pid = sup_spawn(prog, argv, path);
    assert_true(pid > 0);
    int status = reap(pid);
    *out = sup_read_file(path);
    assert_non_null(*out);
    unlink(path);
    return status;
}

static int run_scenario(const char *prog, const char *name, char **out)
{
    char *args[] = {"--scenario", (char *)name, NULL};
    return run(prog, args, out);
}

/* Position of the line `line` in out, or -1. */
static int line_at(const char *out, const char *line)
{
    size_t n = strlen(line);
    int i = 0;
    for (const char *p = out; *p != '\0'; i++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == n && strncmp(p, line, n) == 0)
            return i;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return -1;
}

/* ---- the toy runs the seed's program ---- */

static void test_toy_interleaves_numbers_and_seconds(void **state)
{
    (void)state;
    char *out, *args[] = {"--seconds", "3", NULL};
    assert_int_equal(run(TOY, args, &out), 0);
    int lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 32);           /* 30 numbers, 2 lines of seconds */
    char num[16];
    for (int n = 1; n <= 30; n++) {        /* each coroutine in its own order */
        snprintf(num, sizeof num, "%d", n);
        assert_true(line_at(out, num) >= 0);
        if (n > 1) {
            char prev[16];
            snprintf(prev, sizeof prev, "%d", n - 1);
            assert_true(line_at(out, prev) < line_at(out, num));
        }
    }
    int zero = line_at(out, "0 seconds have passed");
    int three = line_at(out, "3 seconds have passed");
    /* interleaved: print_time ran while print_nums slept, and again later */
    assert_true(line_at(out, "1") < zero && zero < line_at(out, "2"));
    assert_true(line_at(out, "2") < three);
    free(out);
}

/* ---- scenarios: fail on the toy, hold on the library ---- */

/* ties: four callbacks set for one moment run in the order they were set */
static int fifo_ties(const char *out)
{
    return strcmp(out, "a\nb\nc\nd\n") == 0;
}

static void test_equal_deadlines_fifo_library_not_toy(void **state)
{
    (void)state;
    char *toy, *lib;
    assert_int_equal(run_scenario(TOY, "ties", &toy), 0);
    assert_int_equal(run_scenario(LIB, "ties", &lib), 0);
    assert_false(fifo_ties(toy));
    assert_true(fifo_ties(lib));
    free(toy);
    free(lib);
}

/* spin: a timer due at once fires before a task that keeps yielding is done */
static int timer_not_starved(const char *out)
{
    int timer = line_at(out, "timer"), last = line_at(out, "spin 5");
    return timer >= 0 && last >= 0 && timer < last;
}

static void test_yielding_task_starves_toy_timers_only(void **state)
{
    (void)state;
    char *toy, *lib;
    assert_int_equal(run_scenario(TOY, "spin", &toy), 0);
    assert_int_equal(run_scenario(LIB, "spin", &lib), 0);
    assert_false(timer_not_starved(toy));
    assert_true(timer_not_starved(lib));
    free(toy);
    free(lib);
}

/* late: the error of an awaited task reaches the awaiting coroutine */
static int error_reaches_main(int status, const char *out)
{
    return status == 1 && line_at(out, "late: both done") < 0
           && strstr(out, "main: fail: the reply makes no sense") != NULL;
}

static void test_task_error_reaches_awaiter_library_not_toy(void **state)
{
    (void)state;
    char *toy, *lib;
    int toy_status = run_scenario(TOY, "late", &toy);
    int lib_status = run_scenario(LIB, "late", &lib);
    assert_false(error_reaches_main(toy_status, toy));
    assert_true(error_reaches_main(lib_status, lib));
    free(toy);
    free(lib);
}

/* hang: SIGTERM stops a coroutine that waits forever, and its cleanup runs */
static int stops_cleanly(const char *prog, char **out)
{
    char path[256], *argv[] = {(char *)prog, "--scenario", "hang", NULL};
    sup_tmp_path(path, sizeof path, "hang");
    pid_t pid = sup_spawn(prog, argv, path);
    assert_true(pid > 0);
    assert_int_equal(sup_wait_output(path, "hang: waiting", 10000), 0);
    int status = sup_stop(pid, 5000);
    *out = sup_read_file(path);
    assert_non_null(*out);
    unlink(path);
    return status == 0 && strstr(*out, "hang: cleaning up\n") != NULL;
}

static void test_sigterm_cancels_and_cleans_up_library_not_toy(void **state)
{
    (void)state;
    char *toy, *lib;
    assert_false(stops_cleanly(TOY, &toy));
    assert_true(stops_cleanly(LIB, &lib));
    free(toy);
    free(lib);
}

/* read: a blocking read in one coroutine stops every task, on both asyncios
 * (the cure is an operation that returns a Future, chapter 10) */
static pid_t spawn_with_stdin(const char *prog, const char *out_path, int *in)
{
    char path[4096];
    int p[2];
    assert_int_equal(sup_bin(prog, path, sizeof path), 0);
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(p[0], 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        close(p[1]);
        execl(path, path, "--scenario", "read", (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    *in = p[1];
    return pid;
}

static void check_blocking_read_stops_everyone(const char *prog)
{
    char path[256];
    int in;
    sup_tmp_path(path, sizeof path, "read");
    pid_t pid = spawn_with_stdin(prog, path, &in);
    assert_true(pid > 0);
    assert_int_equal(sup_wait_output(path, "1\n", 10000), 0);
    /* the numbers are due every 0.1 s, but the reader sleeps in read() */
    assert_int_equal(sup_wait_output(path, "2\n", 500), -ETIMEDOUT);
    assert_int_equal(write(in, "hi\n", 3), 3);
    close(in);
    assert_int_equal(reap(pid), 0);
    char *out = sup_read_file(path);
    assert_non_null(out);
    assert_true(line_at(out, "read: hi") < line_at(out, "2"));
    free(out);
    unlink(path);
}

static void test_blocking_read_stops_every_task(void **state)
{
    (void)state;
    check_blocking_read_stops_everyone(TOY);
    check_blocking_read_stops_everyone(LIB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toy_interleaves_numbers_and_seconds),
        cmocka_unit_test(test_equal_deadlines_fifo_library_not_toy),
        cmocka_unit_test(test_yielding_task_starves_toy_timers_only),
        cmocka_unit_test(test_task_error_reaches_awaiter_library_not_toy),
        cmocka_unit_test(test_sigterm_cancels_and_cleans_up_library_not_toy),
        cmocka_unit_test(test_blocking_read_stops_every_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
