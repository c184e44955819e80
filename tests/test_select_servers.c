/* tests/test_select_servers.c — integration tests for the servers of
 * chapters 03 (select) and 04 (selectors, with every backend): many
 * clients served interleaved, misbehaving clients, the FD_SETSIZE
 * ceiling, a clean exit on SIGTERM. Real programs on loopback ports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "selector.h"
#include "support.h"

static const char REPLY[] = "Hello world!\n";

struct config {
    const char *prog;    /* program under $BOOK_BIN */
    const char *backend; /* --backend for chapter 04, NULL for chapter 03 */
    char name[48];
};

struct running {
    const struct config *cfg;
    struct sup_server srv;
};

static int start(struct running *r, const struct config *cfg)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    char tag[64];
    snprintf(tag, sizeof tag, "%s-%s", cfg->prog, cfg->backend ? cfg->backend : "");
    char *args[] = {"--backend", (char *)cfg->backend, NULL};
    return sup_server_start(&r->srv, cfg->prog, tag, cfg->backend ? args : NULL, 5000);
}

/* Stop the server; its exit status (0 expected: clean SIGTERM exit,
 * and under ASan also: nothing leaked). */
static int stop(struct running *r)
{
    int st = r->srv.pid > 0 ? sup_stop(r->srv.pid, 5000) : -1;
    r->srv.pid = 0;
    return st;
}

static int setup(void **state)
{
    struct running *r = malloc(sizeof *r);
    if (r == NULL || start(r, *state) != 0) {
        free(r);
        return -1;
    }
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct running *r = *state;
    if (r->srv.pid > 0)
        stop(r);
    unlink(r->srv.log);
    free(r);
    return 0;
}

/* Read exactly one reply; 0 when it is "Hello world!\n". */
static int read_reply(int fd, int timeout_ms)
{
    char buf[64];
    size_t got = 0;
    while (got < sizeof REPLY - 1) {
        ssize_t n = sup_recv_timeout(fd, buf + got, sizeof buf - got, timeout_ms);
        if (n <= 0)
            return n == 0 ? -EPIPE : (int)n;
        got += (size_t)n;
    }
    return got == sizeof REPLY - 1 && memcmp(buf, REPLY, got) == 0 ? 0 : -EPROTO;
}

static int roundtrip(int fd, const char *msg)
{
    int rc = sup_send_str(fd, msg);
    return rc < 0 ? rc : read_reply(fd, 5000);
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

enum { NCLIENTS = 200 };

/* The first client connects and stays silent; the other 199 are served
 * while it is connected; then it is served too. All 200 are open at once. */
static void test_200_clients_interleaved(void **state)
{
    struct running *r = *state;
    int fds[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        fds[i] = sup_connect(r->srv.port, 5000);
        assert_true(fds[i] >= 0);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 1; i < NCLIENTS; i++) {
            char msg[32];
            snprintf(msg, sizeof msg, "hello %d/%d\n", i, round);
            assert_int_equal(roundtrip(fds[i], msg), 0);
        }
    assert_int_equal(roundtrip(fds[0], "finally me\n"), 0);
    for (int i = 0; i < NCLIENTS; i++)
        close(fds[i]);
    /* a fresh client after all that */
    int fd = sup_connect(r->srv.port, 5000);
    assert_true(fd >= 0);
    assert_int_equal(roundtrip(fd, "after\n"), 0);
    close(fd);
    assert_int_equal(stop(r), 0);
    char *out = sup_read_file(r->srv.log);
    assert_non_null(out);
    assert_int_equal(count_lines(out, "Connection from: ('127.0.0.1', "), NCLIENTS + 1);
    free(out);
}

/* Clients that leave mid-conversation (politely and with a reset), one
 * that sends binary garbage, one that never reads its replies: the
 * well-behaved client keeps being served and the server lives on. */
static void test_misbehaving_clients(void **state)
{
    struct running *r = *state;
    int good = sup_connect(r->srv.port, 5000);
    assert_true(good >= 0);
    assert_int_equal(roundtrip(good, "one\n"), 0);

    int quitter = sup_connect(r->srv.port, 5000);  /* leaves after a request */
    assert_true(quitter >= 0);
    assert_int_equal(sup_send_str(quitter, "half a requ"), 0);
    close(quitter);

    int resetter = sup_connect(r->srv.port, 5000); /* leaves with RST */
    assert_true(resetter >= 0);
    assert_int_equal(roundtrip(resetter, "hi\n"), 0);
    assert_int_equal(sup_send_str(resetter, "more"), 0);
    struct linger lg = {1, 0};
    setsockopt(resetter, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(resetter);

    int silent = sup_connect(r->srv.port, 5000);   /* connects, says nothing */
    assert_true(silent >= 0);
    close(silent);

    int garbage = sup_connect(r->srv.port, 5000);
    assert_true(garbage >= 0);
    char junk[3000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 131 + 7);  /* NULs, high bytes, no newline */
    assert_int_equal(send(garbage, junk, sizeof junk, MSG_NOSIGNAL), (ssize_t)sizeof junk);
    char buf[256];
    assert_true(sup_recv_timeout(garbage, buf, sizeof buf, 5000) > 0);

    int deaf = sup_connect(r->srv.port, 5000);     /* never reads replies */
    assert_true(deaf >= 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(sup_send_str(deaf, "are you there?\n"), 0);
    close(deaf);

    assert_int_equal(roundtrip(good, "two\n"), 0);
    /* replies are all alike, so whatever 13 bytes come next are one */
    assert_int_equal(roundtrip(garbage, "and now a line\n"), 0);
    close(garbage);
    int fresh = sup_connect(r->srv.port, 5000);
    assert_true(fresh >= 0);
    assert_int_equal(roundtrip(fresh, "three\n"), 0);
    assert_int_equal(roundtrip(good, "four\n"), 0);
    close(fresh);
    close(good);
    assert_int_equal(stop(r), 0);
}

/* Stopping with clients still connected frees them all (ASan's leak
 * checker would turn a leak into a non-zero exit status). */
static void test_sigterm_with_clients_connected(void **state)
{
    struct running *r = *state;
    int fds[10];
    for (int i = 0; i < 10; i++) {
        fds[i] = sup_connect(r->srv.port, 5000);
        assert_true(fds[i] >= 0);
        assert_int_equal(roundtrip(fds[i], "x\n"), 0);
    }
    assert_int_equal(stop(r), 0);
    for (int i = 0; i < 10; i++) {
        char buf[8];
        assert_int_equal(sup_recv_timeout(fds[i], buf, sizeof buf, 5000), 0);
        close(fds[i]);
    }
    char *out = sup_read_file(r->srv.log);
    assert_non_null(out);
    assert_non_null(strstr(out, "Stopped."));
    free(out);
}

enum { NMANY = 1100 };

/* More connections than select() can watch. The select-based servers
 * must refuse the ones beyond FD_SETSIZE with a message and go on
 * serving; epoll and poll must serve them all. */
static void test_beyond_fd_setsize(void **state)
{
    struct running *r = *state;
    if (sup_raise_nofile(NMANY + 200) != 0)
        skip();
    int *fds = calloc(NMANY, sizeof *fds);
    assert_non_null(fds);
    for (int i = 0; i < NMANY; i++) {
        fds[i] = sup_connect(r->srv.port, 5000);
        assert_true(fds[i] >= 0);
    }
    int served = 0, refused = 0;
    for (int i = 0; i < NMANY; i++) {
        int rc = roundtrip(fds[i], "ping\n");
        if (rc == 0)
            served++;
        else if (rc == -EPIPE || rc == -ECONNRESET)
            refused++;      /* the server closed it */
        else
            fail_msg("client %d: unexpected %d", i, rc);
    }
    int select_based = r->cfg->backend == NULL || strcmp(r->cfg->backend, "select") == 0;
    char *out = sup_read_file(r->srv.log);
    assert_non_null(out);
    if (select_based) {
        assert_true(refused > 0);
        assert_true(served > 1000);
        assert_int_equal(count_lines(out, "Refusing connection from"), refused);
        assert_non_null(strstr(out, r->cfg->backend ? "cannot watch descriptor 1024"
                                                    : "(FD_SETSIZE = 1024)"));
    } else {
        assert_int_equal(served, NMANY);
        assert_null(strstr(out, "Refusing"));
    }
    free(out);
    /* the early ones are still served, and after closing, new ones are */
    assert_int_equal(roundtrip(fds[0], "still there?\n"), 0);
    for (int i = 0; i < NMANY; i++)
        close(fds[i]);
    free(fds);
    int fd = sup_connect(r->srv.port, 5000);
    assert_true(fd >= 0);
    assert_int_equal(roundtrip(fd, "new\n"), 0);
    close(fd);
    assert_int_equal(stop(r), 0);
}

/* Start prog like sup_spawn, but with RLIMIT_NOFILE (soft and hard)
 * lowered to limit, so that the server runs out of descriptors after a
 * handful of clients and cannot raise its own limit again. */
static pid_t spawn_limited(const struct config *cfg, int port, const char *out,
                           rlim_t limit)
{
    char path[4096], portstr[16];
    if (sup_bin(cfg->prog, path, sizeof path) != 0)
        return -1;
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {(char *)cfg->prog, "--port", portstr, NULL, NULL, NULL};
    if (cfg->backend) {
        argv[3] = "--backend";
        argv[4] = (char *)cfg->backend;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (fd < 0 || in < 0)
        _exit(127);
    dup2(in, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    for (int i = 3; i < 4096; i++)
        close(i);               /* inherited descriptors would eat the limit */
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        _exit(126);
    execv(path, argv);
    _exit(127);
}

enum { NTRY = 10 };

/* Out of file descriptors: the server refuses the connections it cannot
 * take (EMFILE, the spare descriptor trick), does not get stuck in its
 * accept loop, keeps serving the clients it has, and takes new ones once
 * descriptors are free again. */
static void test_out_of_descriptors(void **state)
{
    struct running *r = *state;
    stop(r);                    /* this test needs its own, limited server */
    r->srv.port = sup_free_port();
    assert_true(r->srv.port > 0);
    r->srv.pid = spawn_limited(r->cfg, r->srv.port, r->srv.log, 12);
    assert_true(r->srv.pid > 0);
    assert_int_equal(sup_wait_port(r->srv.port, 5000), 0);
    int fds[NTRY], served = 0, refused = 0;
    for (int i = 0; i < NTRY; i++) {
        fds[i] = sup_connect(r->srv.port, 5000);
        assert_true(fds[i] >= 0);
        int rc = roundtrip(fds[i], "x\n");
        if (rc == 0)
            served++;
        else if (rc == -EPIPE || rc == -ECONNRESET)
            refused++;
        else
            fail_msg("client %d: unexpected %d", i, rc);
    }
    assert_true(served >= 2);
    assert_true(refused >= 1);
    assert_int_equal(served + refused, NTRY);
    /* the ones it took are still served: the loop is not stuck */
    for (int i = 0; i < NTRY; i++)
        if (roundtrip(fds[i], "again\n") == 0)
            served--;
    assert_int_equal(served, 0);
    char *out = sup_read_file(r->srv.log);
    assert_non_null(out);
    assert_non_null(strstr(out, "out of file descriptors (EMFILE)"));
    free(out);
    for (int i = 0; i < NTRY; i++)
        close(fds[i]);
    int fd = -1;
    for (int tries = 0; tries < 50; tries++) { /* its closes may lag ours */
        fd = sup_connect(r->srv.port, 5000);
        assert_true(fd >= 0);
        if (roundtrip(fd, "free again\n") == 0)
            break;
        close(fd);
        fd = -1;
        sup_sleep_ms(20);
    }
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(stop(r), 0);
}

/* The environment variable picks the backend when no flag is given. */
static void test_backend_from_environment(void **state)
{
    (void)state;
    static const struct config cfg = {"selectors-server", NULL, ""};
    struct running r;
    setenv("SELECTOR_BACKEND", "poll", 1);
    int rc = start(&r, &cfg);
    unsetenv("SELECTOR_BACKEND");
    assert_int_equal(rc, 0);
    int fd = sup_connect(r.srv.port, 5000);
    assert_true(fd >= 0);
    assert_int_equal(roundtrip(fd, "hi\n"), 0);
    close(fd);
    assert_int_equal(sup_wait_output(r.srv.log, "(backend: poll;", 5000), 0);
    assert_int_equal(stop(&r), 0);
    unlink(r.srv.log);

    /* an unknown name is a clear error, not a crash */
    char out[256];
    sup_tmp_path(out, sizeof out, "bad-backend");
    char *argv[] = {"selectors-server", "--port", "1", "--backend", "nope", NULL};
    pid_t pid = sup_spawn("selectors-server", argv, out);
    assert_true(pid > 0);
    int status = -1;
    for (long long end = sup_now_ms() + 5000; sup_now_ms() < end; sup_sleep_ms(10)) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
            break;
        }
    }
    if (status < 0)
        sup_stop(pid, 1000);
    assert_int_equal(status, 2);
    char *text = sup_read_file(out);
    assert_non_null(text);
    assert_non_null(strstr(text, "available:"));
    free(text);
    unlink(out);
}

int main(void)
{
    static struct config configs[8];
    size_t nc = 0;
    configs[nc++] = (struct config){"select-server", NULL, "select"};
    for (size_t i = 0; selector_backend_at(i) != NULL && nc < 8; i++) {
        configs[nc] = (struct config){"selectors-server", selector_backend_at(i), ""};
        snprintf(configs[nc].name, sizeof configs[nc].name, "selectors/%s",
                 selector_backend_at(i));
        nc++;
    }
    static const struct {
        const char *name;
        CMUnitTestFunction fn;
    } per_server[] = {
#define T(fn) {#fn, fn}
        T(test_200_clients_interleaved),
        T(test_misbehaving_clients),
        T(test_sigterm_with_clients_connected),
        T(test_beyond_fd_setsize),
        T(test_out_of_descriptors),
#undef T
    };
    enum { PER = sizeof per_server / sizeof per_server[0] };
    /* one group (one summary for the runner), tests named "server/test" */
    struct CMUnitTest tests[8 * PER + 1];
    static char names[8 * PER + 1][160];
    size_t n = 0;
    for (size_t c = 0; c < nc; c++)
        for (size_t i = 0; i < PER; i++) {
            snprintf(names[n], sizeof names[n], "%.47s/%.100s", configs[c].name,
                     per_server[i].name);
            tests[n] = (struct CMUnitTest){names[n], per_server[i].fn, setup,
                                           teardown, &configs[c]};
            n++;
        }
    tests[n++] = (struct CMUnitTest){"selectors/test_backend_from_environment",
                                     test_backend_from_environment, NULL, NULL, NULL};
    return _cmocka_run_group_tests("select-servers", tests, n, NULL, NULL) ? 1 : 0;
}
