/* tests/test_selector.c — the selector library (chapter 04), one suite
 * run against every backend the platform offers (epoll, kqueue, poll,
 * select): the same semantics must hold whichever one is inside. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "selector.h"
#include "support.h"

struct fixture {
    const char *backend;
    selector *sel;
    int sv[2]; /* a connected pair of stream sockets */
};

static int setup(void **state)
{
    const char *name = *state;
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->backend = name;
    if (selector_new(&f->sel, name) != 0
        || socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv) != 0) {
        free(f);
        return -1;
    }
    fcntl(f->sv[0], F_SETFL, O_NONBLOCK);
    fcntl(f->sv[1], F_SETFL, O_NONBLOCK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    selector_free(f->sel);
    if (f->sv[0] >= 0)
        close(f->sv[0]);
    close(f->sv[1]);
    free(f);
    return 0;
}

/* Find fd among the n events; its events, or 0 if absent. */
static int events_of(const selector_event *ev, int n, int fd)
{
    for (int i = 0; i < n; i++)
        if (ev[i].fd == fd)
            return ev[i].events;
    return 0;
}

static void test_backend_name(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(selector_backend_name(f->sel), f->backend);
}

static void test_register_get_key(void **state)
{
    struct fixture *f = *state;
    int tag = 42;
    assert_null(selector_get_key(f->sel, f->sv[0]));
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, &tag), 0);
    const selector_key *k = selector_get_key(f->sel, f->sv[0]);
    assert_non_null(k);
    assert_int_equal(k->fd, f->sv[0]);
    assert_int_equal(k->events, SELECTOR_READ);
    assert_ptr_equal(k->data, &tag);
    assert_int_equal(selector_count(f->sel), 1);
}

static void test_register_errors(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), -EEXIST);
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_WRITE, NULL), -EEXIST);
    assert_int_equal(selector_register(f->sel, f->sv[1], 0, NULL), -EINVAL);
    assert_int_equal(selector_register(f->sel, f->sv[1], 4, NULL), -EINVAL);
    assert_int_equal(selector_register(f->sel, f->sv[1], SELECTOR_READ | 8, NULL), -EINVAL);
    assert_int_equal(selector_register(f->sel, -1, SELECTOR_READ, NULL), -EBADF);
    int fd = dup(f->sv[1]);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(selector_register(f->sel, fd, SELECTOR_READ, NULL), -EBADF);
    /* failures leave no trace */
    assert_int_equal(selector_count(f->sel), 1);
    assert_null(selector_get_key(f->sel, f->sv[1]));
}

static void test_modify(void **state)
{
    struct fixture *f = *state;
    int a, b;
    assert_int_equal(selector_modify(f->sel, f->sv[0], SELECTOR_READ, NULL), -ENOENT);
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, &a), 0);
    assert_int_equal(selector_modify(f->sel, f->sv[0], SELECTOR_WRITE, &b), 0);
    const selector_key *k = selector_get_key(f->sel, f->sv[0]);
    assert_int_equal(k->events, SELECTOR_WRITE);
    assert_ptr_equal(k->data, &b);
    /* same events, new data: only data changes */
    assert_int_equal(selector_modify(f->sel, f->sv[0], SELECTOR_WRITE, &a), 0);
    assert_ptr_equal(selector_get_key(f->sel, f->sv[0])->data, &a);
    assert_int_equal(selector_modify(f->sel, f->sv[0], 0, &a), -EINVAL);
    assert_int_equal(selector_modify(f->sel, f->sv[0], 7, &a), -EINVAL);
    assert_int_equal(selector_modify(f->sel, -3, SELECTOR_READ, NULL), -ENOENT);
    /* the kernel side follows: now WRITE is reported, READ is not */
    selector_event ev[4];
    assert_int_equal(write(f->sv[1], "x", 1), 1);
    int n = selector_select(f->sel, ev, 4, 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].events, SELECTOR_WRITE);
    assert_ptr_equal(ev[0].data, &a);
    assert_int_equal(selector_modify(f->sel, f->sv[0], SELECTOR_READ, &b), 0);
    n = selector_select(f->sel, ev, 4, 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].events, SELECTOR_READ);
    assert_ptr_equal(ev[0].data, &b);
}

static void test_unregister(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(selector_unregister(f->sel, f->sv[0]), -ENOENT);
    assert_int_equal(selector_unregister(f->sel, -1), -ENOENT);
    assert_int_equal(selector_unregister(f->sel, 100000), -ENOENT);
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ | SELECTOR_WRITE, NULL), 0);
    assert_int_equal(selector_unregister(f->sel, f->sv[0]), 0);
    assert_int_equal(selector_unregister(f->sel, f->sv[0]), -ENOENT);
    assert_null(selector_get_key(f->sel, f->sv[0]));
    assert_int_equal(selector_count(f->sel), 0);
    /* nothing is reported for it any more, and it can come back */
    selector_event ev[4];
    assert_int_equal(write(f->sv[1], "x", 1), 1);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 0);
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 1);
}

static void test_socketpair_readiness(void **state)
{
    struct fixture *f = *state;
    int tag;
    selector_event ev[4];
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ | SELECTOR_WRITE, &tag), 0);
    /* fresh pair: room to write, nothing to read */
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 1);
    assert_int_equal(ev[0].fd, f->sv[0]);
    assert_int_equal(ev[0].events, SELECTOR_WRITE);
    assert_ptr_equal(ev[0].data, &tag);
    /* the peer wrote: readable too */
    assert_int_equal(write(f->sv[1], "ping", 4), 4);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 1);
    assert_int_equal(ev[0].events, SELECTOR_READ | SELECTOR_WRITE);
    /* level-triggered: still readable until the data is read */
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 1);
    assert_int_equal(ev[0].events, SELECTOR_READ | SELECTOR_WRITE);
    char buf[8];
    assert_int_equal(read(f->sv[0], buf, sizeof buf), 4);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 1);
    assert_int_equal(ev[0].events, SELECTOR_WRITE);
}

static void test_full_send_buffer(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    char chunk[4096];
    memset(chunk, 'z', sizeof chunk);
    /* fill sv[0]'s send buffer (nobody reads at sv[1]) */
    long total = 0;
    for (;;) {
        ssize_t w = write(f->sv[0], chunk, sizeof chunk);
        if (w < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        total += w;
        assert_true(total < 64L * 1024 * 1024);
    }
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_WRITE, NULL), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 0);
    /* the peer drains everything: there is room again */
    while (read(f->sv[1], chunk, sizeof chunk) > 0) {
    }
    assert_int_equal(selector_select(f->sel, ev, 4, 1000), 1);
    assert_int_equal(ev[0].events, SELECTOR_WRITE);
}

static void test_peer_closed_is_readable(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 0);
    shutdown(f->sv[1], SHUT_WR);
    assert_int_equal(selector_select(f->sel, ev, 4, 1000), 1);
    assert_int_equal(ev[0].events, SELECTOR_READ);
    char c;
    assert_int_equal(read(f->sv[0], &c, 1), 0); /* EOF is what readable meant */
}

/* The peer closed its end entirely: POLLHUP. poll and epoll report it as
 * SELECTOR_ERROR beside the readiness asked for; select cannot tell, and
 * kqueue reports the hang-up as plain EOF on read. Never unasked: a
 * writer-only registration gets SELECTOR_WRITE | SELECTOR_ERROR. */
static void test_hangup_sets_error_bit(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    int has_bit = strcmp(f->backend, "poll") == 0 || strcmp(f->backend, "epoll") == 0;
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    close(f->sv[1]);
    f->sv[1] = -1;
    assert_int_equal(selector_select(f->sel, ev, 4, 1000), 1);
    assert_int_equal(ev[0].events, SELECTOR_READ | (has_bit ? SELECTOR_ERROR : 0));
    assert_int_equal(selector_modify(f->sel, f->sv[0], SELECTOR_WRITE, NULL), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 1000), 1);
    assert_int_equal(ev[0].events, SELECTOR_WRITE | (has_bit ? SELECTOR_ERROR : 0));
}

static void test_timeout_zero_and_finite(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 30), 0);
    /* a finite wait ends as soon as something is ready */
    assert_int_equal(write(f->sv[1], "y", 1), 1);
    assert_int_equal(selector_select(f->sel, ev, 4, 5000), 1);
    /* bad arguments */
    assert_int_equal(selector_select(f->sel, ev, 0, 0), -EINVAL);
    assert_int_equal(selector_select(f->sel, NULL, 4, 0), -EINVAL);
}

static void test_empty_selector_timeout(void **state)
{
    struct fixture *f = *state;
    selector_event ev[1];
    assert_int_equal(selector_count(f->sel), 0);
    assert_int_equal(selector_select(f->sel, ev, 1, 20), 0);
}

static void test_infinite_timeout_wakeup(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        _exit(write(f->sv[1], "w", 1) == 1 ? 0 : 1);
    }
    alarm(10); /* bound: if the wake-up never comes, SIGALRM fails the test */
    int n = selector_select(f->sel, ev, 4, -1);
    alarm(0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].fd, f->sv[0]);
    assert_int_equal(ev[0].events, SELECTOR_READ);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_eintr(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_READ, NULL), 0);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_alarm; /* no SA_RESTART: the wait is interrupted */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    alarm(1);
    int n = selector_select(f->sel, ev, 4, 10000);
    alarm(0);
    sigaction(SIGALRM, &old, NULL);
    assert_int_equal(n, -EINTR);
}

/* A descriptor closed while still registered: the rule is "unregister,
 * then close"; here we break it on purpose and record what each
 * backend does, then check that unregister cleans up after it. */
static void test_closed_while_registered(void **state)
{
    struct fixture *f = *state;
    selector_event ev[4];
    int fd = f->sv[0];
    assert_int_equal(selector_register(f->sel, fd, SELECTOR_READ, NULL), 0);
    close(fd);
    f->sv[0] = -1;
    int n = selector_select(f->sel, ev, 4, 0);
    if (strcmp(f->backend, "select") == 0) {
        assert_int_equal(n, -EBADF); /* the original 1_select.py crash */
    } else if (strcmp(f->backend, "poll") == 0) {
        assert_int_equal(n, 1); /* POLLNVAL: "look at it", recv says EBADF */
        assert_int_equal(ev[0].fd, fd);
        assert_int_equal(ev[0].events, SELECTOR_READ | SELECTOR_ERROR);
    } else {
        assert_int_equal(n, 0); /* epoll and kqueue forget closed files */
    }
    assert_int_equal(selector_unregister(f->sel, fd), 0);
    assert_int_equal(selector_count(f->sel), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 0);
    /* the number can be reused by a new descriptor and registered again */
    int sv2[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
    assert_int_equal(selector_register(f->sel, sv2[0], SELECTOR_WRITE, NULL), 0);
    assert_int_equal(selector_select(f->sel, ev, 4, 0), 1);
    assert_int_equal(ev[0].fd, sv2[0]);
    assert_int_equal(selector_unregister(f->sel, sv2[0]), 0);
    close(sv2[0]);
    close(sv2[1]);
}

static void test_small_cap(void **state)
{
    struct fixture *f = *state;
    int sv2[2];
    selector_event ev[1];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
    assert_int_equal(selector_register(f->sel, f->sv[0], SELECTOR_WRITE, NULL), 0);
    assert_int_equal(selector_register(f->sel, sv2[0], SELECTOR_WRITE, NULL), 0);
    /* two are ready but only one fits: one now, and nothing is lost */
    assert_int_equal(selector_select(f->sel, ev, 1, 0), 1);
    int first = ev[0].fd;
    assert_int_equal(selector_unregister(f->sel, first), 0);
    assert_int_equal(selector_select(f->sel, ev, 1, 0), 1);
    assert_int_not_equal(ev[0].fd, first);
    selector_unregister(f->sel, sv2[0]);
    close(sv2[0]);
    close(sv2[1]);
}

enum { NPAIRS = 1100 }; /* 2,200 descriptors */

static void test_many_descriptors(void **state)
{
    struct fixture *f = *state;
    if (sup_raise_nofile(NPAIRS * 2 + 64) != 0)
        skip();
    int (*pairs)[2] = calloc(NPAIRS, sizeof *pairs);
    selector_event *ev = calloc(2 * NPAIRS, sizeof *ev);
    assert_non_null(pairs);
    assert_non_null(ev);
    /* both ends of every pair are watched for reading; one in seven
       gets a byte from its peer */
    int registered = 0, refused = 0, expected = 0;
    for (int i = 0; i < NPAIRS; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]), 0);
        for (int end = 0; end < 2; end++) {
            int fd = pairs[i][end];
            int rc = selector_register(f->sel, fd, SELECTOR_READ, &pairs[i][end]);
            if (strcmp(f->backend, "select") == 0 && fd >= FD_SETSIZE) {
                assert_int_equal(rc, -ERANGE); /* refused, no corruption */
                refused++;
            } else {
                assert_int_equal(rc, 0);
                registered++;
            }
        }
        if (i % 7 == 3) {
            assert_int_equal(write(pairs[i][1], "!", 1), 1);
            if (selector_get_key(f->sel, pairs[i][0]) != NULL)
                expected++;
        }
    }
    assert_int_equal((int)selector_count(f->sel), registered);
    if (strcmp(f->backend, "select") == 0)
        assert_true(refused > 0);
    else
        assert_true(registered >= 2000);
    /* only the ends we wrote to are reported, each with its own data */
    int n = selector_select(f->sel, ev, 2 * NPAIRS, 1000);
    assert_int_equal(n, expected);
    for (int i = 0; i < NPAIRS; i++) {
        int want = i % 7 == 3 && selector_get_key(f->sel, pairs[i][0]) != NULL;
        assert_int_equal(events_of(ev, n, pairs[i][0]), want ? SELECTOR_READ : 0);
        assert_int_equal(events_of(ev, n, pairs[i][1]), 0);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(*(int *)ev[i].data, ev[i].fd);
    for (int i = 0; i < NPAIRS; i++) {
        for (int end = 0; end < 2; end++) {
            selector_unregister(f->sel, pairs[i][end]);
            close(pairs[i][end]);
        }
    }
    assert_int_equal(selector_count(f->sel), 0);
    free(pairs);
    free(ev);
}

static void test_unknown_backend(void **state)
{
    (void)state;
    selector *s = NULL;
    assert_int_equal(selector_new(&s, "no-such-backend"), -EINVAL);
    assert_null(s);
}

static void test_default_is_best(void **state)
{
    (void)state;
    selector *s = NULL;
    unsetenv("SELECTOR_BACKEND");
    assert_int_equal(selector_new(&s, NULL), 0);
    assert_string_equal(selector_backend_name(s), selector_backend_at(0));
    selector_free(s);
    setenv("SELECTOR_BACKEND", "select", 1);
    assert_int_equal(selector_new(&s, NULL), 0);
    assert_string_equal(selector_backend_name(s), "select");
    selector_free(s);
    assert_int_equal(selector_new(&s, "poll"), 0); /* a name beats the variable */
    assert_string_equal(selector_backend_name(s), "poll");
    selector_free(s);
    unsetenv("SELECTOR_BACKEND");
#ifdef __linux__
    assert_string_equal(selector_backend_at(0), "epoll");
#endif
}

/* With the descriptor table full, epoll_create1 (kqueue) fails with EMFILE;
 * the default choice must then fall back to the next backend, poll, which
 * opens no descriptor. A named backend is not replaced. */
static void test_default_falls_back_when_best_fails(void **state)
{
    (void)state;
    if (strcmp(selector_backend_at(0), "poll") == 0)
        skip();                        /* no backend that opens an fd */
    unsetenv("SELECTOR_BACKEND");
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fds[64], n = 0;
    while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
        n++;
    int dup_errno = errno;
    selector *s = NULL, *named = NULL;
    int rc = selector_new(&s, NULL);
    int rc_named = selector_new(&named, selector_backend_at(0));
    while (n > 0)
        close(fds[--n]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(dup_errno, EMFILE);
    assert_int_equal(rc_named, -EMFILE);
    assert_null(named);
    assert_int_equal(rc, 0);
    assert_string_equal(selector_backend_name(s), selector_backend_at(1));
    selector_free(s);
}

/* One group for the whole suite (so the runner sees one summary), with
 * every test once per backend, named "backend/test". */
static void add(struct CMUnitTest *t, size_t *n, const char *backend,
                const char *name, CMUnitTestFunction fn, int per_backend)
{
    char *full = malloc(strlen(name) + 32);
    if (full == NULL)
        abort();
    sprintf(full, "%s/%s", backend, name);
    t[*n] = (struct CMUnitTest){full, fn, per_backend ? setup : NULL,
                                per_backend ? teardown : NULL,
                                per_backend ? (void *)backend : NULL};
    (*n)++;
}

int main(void)
{
    static const struct {
        const char *name;
        CMUnitTestFunction fn;
    } per_backend[] = {
#define T(fn) {#fn, fn}
        T(test_backend_name),
        T(test_register_get_key),
        T(test_register_errors),
        T(test_modify),
        T(test_unregister),
        T(test_socketpair_readiness),
        T(test_full_send_buffer),
        T(test_peer_closed_is_readable),
        T(test_hangup_sets_error_bit),
        T(test_timeout_zero_and_finite),
        T(test_empty_selector_timeout),
        T(test_infinite_timeout_wakeup),
        T(test_eintr),
        T(test_closed_while_registered),
        T(test_small_cap),
        T(test_many_descriptors),
#undef T
    };
    enum { PER = sizeof per_backend / sizeof per_backend[0] };
    struct CMUnitTest tests[8 * PER + 3];
    size_t n = 0;
    for (size_t b = 0; selector_backend_at(b) != NULL && b < 8; b++)
        for (size_t i = 0; i < PER; i++)
            add(tests, &n, selector_backend_at(b), per_backend[i].name,
                per_backend[i].fn, 1);
    add(tests, &n, "common", "test_unknown_backend", test_unknown_backend, 0);
    add(tests, &n, "common", "test_default_is_best", test_default_is_best, 0);
    add(tests, &n, "common", "test_default_falls_back_when_best_fails",
        test_default_falls_back_when_best_fails, 0);
    int failed = _cmocka_run_group_tests("selector", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free((char *)tests[i].name);
    return failed ? 1 : 0;
}
