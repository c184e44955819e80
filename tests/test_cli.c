/* tests/test_cli.c — one command line for every program of the book
 * (net_parse_args, chapter 1): for each program in $BOOK_BIN,
 *   - --help prints a usage to stdout (nothing to stderr) and exits 0;
 *   - an unknown option (--prot 6123, the typo of --port) prints the usage
 *     to stderr (nothing to stdout) and exits 2 — before the fix most
 *     programs ignored it and started serving on their default port;
 *   - a bad value (--port 50O0 for a server) exits 2 the same way;
 * and every server starts with the one banner "Listening on ..." and ends
 * on SIGTERM with "Stopped." and status 0. Every run is bounded: a program
 * still running after 3 s fails the test and is killed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

/* Run the program at path with args; its stdout and stderr into the two
   files. Returns its exit status, or -1 if it was still running after
   timeout_ms (then it is killed). */
static int run(const char *path, char *const args[], const char *out, const char *err,
               int timeout_ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr) ||
            !freopen("/dev/null", "r", stdin))
            _exit(126);
        char *argv[8] = {(char *)path};
        for (int i = 0; args[i] && i < 6; i++)
            argv[i + 1] = args[i];
        execv(path, argv);
        _exit(127);
    }
    long long deadline = sup_now_ms() + timeout_ms;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (sup_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sup_sleep_ms(10);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long file_size(const char *path)
{
    char *s = sup_read_file(path);
    long n = s ? (long)strlen(s) : -1;
    free(s);
    return n;
}

static int starts_with_usage(const char *path)
{
    char *s = sup_read_file(path);
    int ok = s && strncmp(s, "usage: ", 7) == 0;
    free(s);
    return ok;
}

/* Every program in the bin folder, one after another. */
static int programs(char names[][64], int cap)
{
    const char *dir = getenv("BOOK_BIN");
    if (dir == NULL || *dir == '\0')
        dir = "build/bin";
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap)
        if (e->d_name[0] != '.')
            snprintf(names[n++], 64, "%.63s", e->d_name);
    closedir(d);
    return n;
}

static int is_server(const char *name)
{
    return strstr(name, "server") || strstr(name, "web-app") || strstr(name, "webapp") ||
           strstr(name, "hello") || strstr(name, "blocking-");
}

static void test_help_and_bad_options(void **state)
{
    (void)state;
    char names[64][64], path[512], out[256], err[256];
    int n = programs(names, 64), failures = 0;
    assert_true(n >= 10);
    sup_tmp_path(out, sizeof out, "cli-out");
    sup_tmp_path(err, sizeof err, "cli-err");
    for (int i = 0; i < n; i++) {
        assert_int_equal(sup_bin(names[i], path, sizeof path), 0);
        char *help[] = {"--help", NULL};
        int st = run(path, help, out, err, 3000);
        if (st != 0 || !starts_with_usage(out) || file_size(err) != 0) {
            fprintf(stderr, "%s --help: status %d, stdout %s, stderr %ld bytes\n",
                    names[i], st, starts_with_usage(out) ? "usage" : "no usage",
                    file_size(err));
            failures++;
        }
        char *typo[] = {"--prot", "6123", NULL};
        st = run(path, typo, out, err, 3000);
        char *e = sup_read_file(err);
        if (st != 2 || file_size(out) != 0 || e == NULL || strstr(e, "usage: ") == NULL) {
            fprintf(stderr, "%s --prot 6123: status %d (%s), stdout %ld bytes\n", names[i],
                    st, st < 0 ? "still running after 3 s" : "expected 2", file_size(out));
            failures++;
        }
        free(e);
        if (is_server(names[i])) {
            char *bad[] = {"--port", "50O0", NULL};
            st = run(path, bad, out, err, 3000);
            if (st != 2 || file_size(out) != 0) {
                fprintf(stderr, "%s --port 50O0: status %d\n", names[i], st);
                failures++;
            }
        }
    }
    unlink(out);
    unlink(err);
    assert_int_equal(failures, 0);
}

static void test_servers_banner_and_stop_line(void **state)
{
    (void)state;
    char names[64][64];
    int n = programs(names, 64), failures = 0, servers = 0;
    for (int i = 0; i < n; i++) {
        if (!is_server(names[i]))
            continue;
        servers++;
        struct sup_server s;
        char *latency[] = {"--latency", "0", NULL};
        assert_int_equal(sup_server_start(&s, names[i], "cli",
                                          strstr(names[i], "images") ? latency : NULL, 10000),
                         0);
        char want[64];
        snprintf(want, sizeof want, "127.0.0.1:%d", s.port);
        int banner = sup_wait_output(s.log, "Listening on ", 3000) == 0 &&
                     sup_wait_output(s.log, want, 10) == 0 &&
                     sup_wait_output(s.log, "Ctrl+C to stop)\n", 10) == 0;
        int status = sup_stop(s.pid, 5000);
        int stop = sup_wait_output(s.log, "Stopped.\n", 1000) == 0;
        if (!banner || !stop || status != 0) {
            fprintf(stderr, "%s: banner %d, stop line %d, status %d\n", names[i], banner, stop,
                    status);
            sup_server_show_log(&s);
            failures++;
        }
        unlink(s.log);
    }
    assert_true(servers >= 7);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_bad_options),
        cmocka_unit_test(test_servers_banner_and_stop_line),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
