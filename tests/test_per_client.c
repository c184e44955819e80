/* tests/test_per_client.c — chapter 02's classic answers to the blocking
 * server: a process per client (blocking-forks) and a thread per client
 * (blocking-threads). Each must pass the test the blocking server fails
 * (a second client is answered while the first stays connected), serve a
 * crowd at once, and stop cleanly on SIGTERM with a client connected. The
 * process server must leave no zombies behind and its children must not
 * outlive it (its clients see end of file). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define HELLO "Hello world!\n"

struct fixture {
    const char *prog;
    struct sup_server srv;
};

static int setup(void **state)
{
    struct fixture *f = *state;
    return sup_server_start(&f->srv, f->prog, f->prog, NULL, 10000) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.pid > 0) {
        int status = sup_stop(f->srv.pid, 5000);
        if (status != 0) {
            sup_server_show_log(&f->srv);
            fprintf(stderr, "server exit status %d, expected 0\n", status);
            unlink(f->srv.log);
            return -1;
        }
    }
    unlink(f->srv.log);
    return 0;
}

/* Connect, say something, expect exactly the greeting back. */
static int greeted_client(int port)
{
    int fd = sup_connect(port, 2000);
    assert_true(fd >= 0);
    assert_int_equal(sup_send_str(fd, "hi\n"), 0);
    char buf[64];
    ssize_t n = sup_recv_timeout(fd, buf, sizeof buf, 5000);
    if (n != (ssize_t)strlen(HELLO) || strcmp(buf, HELLO) != 0)
        fail_msg("expected the greeting, recv returned %zd: \"%s\"", n, n > 0 ? buf : "");
    return fd;
}

/* The exact opposite of test_blocking's lesson. */
static void test_second_client_served_while_first_stays(void **state)
{
    struct fixture *f = *state;
    int first = greeted_client(f->srv.port);
    int second = greeted_client(f->srv.port);
    char buf[64];
    assert_int_equal(sup_send_str(first, "still here\n"), 0);
    assert_int_equal(sup_recv_timeout(first, buf, sizeof buf, 5000), (ssize_t)strlen(HELLO));
    close(second);
    close(first);
}

static void test_crowd_at_once(void **state)
{
    struct fixture *f = *state;
    enum { N = 100 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = greeted_client(f->srv.port);
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

/* Children of pid in state Z (zombies), counted from /proc. */
static int zombies_of(pid_t pid)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    int zombies = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], line[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        char st;
        int ppid;
        const char *rp = fgets(line, sizeof line, fp) ? strrchr(line, ')') : NULL;
        if (rp != NULL && sscanf(rp + 1, " %c %d", &st, &ppid) == 2 && ppid == pid && st == 'Z')
            zombies++;
        fclose(fp);
    }
    closedir(d);
    return zombies;
}

static void test_no_zombies_left(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 100; i++)
        close(greeted_client(f->srv.port));
    /* every child has seen its client leave once the last one is greeted
       and a while has passed; zombies, if any, would stay forever */
    int zombies = 0;
    for (int tries = 0; tries < 50; tries++) {
        zombies = zombies_of(f->srv.pid);
        if (zombies == 0)
            break;
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    assert_int_equal(zombies, 0);
}

static void test_clean_exit_with_client_connected(void **state)
{
    struct fixture *f = *state;
    int fd = greeted_client(f->srv.port);
    int status = sup_stop(f->srv.pid, 5000);
    f->srv.pid = 0;
    if (status != 0)
        sup_server_show_log(&f->srv);
    assert_int_equal(status, 0);
    /* nobody serves the client any more: it sees the end of the stream
       (a child that outlived its parent would still answer) */
    char buf[64];
    sup_send_str(fd, "anyone?\n");
    ssize_t n = sup_recv_timeout(fd, buf, sizeof buf, 5000);
    if (n != 0 && n != -ECONNRESET)
        fail_msg("after the server stopped, recv returned %zd (\"%s\")", n, n > 0 ? buf : "");
    close(fd);
}

#define T(f, fn) {#f "/" #fn, fn, setup, teardown, &(f)}

int main(void)
{
    static struct fixture forks = {.prog = "blocking-forks"};
    static struct fixture threads = {.prog = "blocking-threads"};
    const struct CMUnitTest tests[] = {
        T(forks, test_second_client_served_while_first_stays),
        T(forks, test_crowd_at_once),
        T(forks, test_no_zombies_left),
        T(forks, test_clean_exit_with_client_connected),
        T(threads, test_second_client_served_while_first_stays),
        T(threads, test_crowd_at_once),
        T(threads, test_clean_exit_with_client_connected),
    };
    return cmocka_run_group_tests_name("per_client", tests, NULL, NULL);
}
