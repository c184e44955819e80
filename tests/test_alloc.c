/* No heap allocation per request in steady state: the async "Hello world!"
 * server and the async web app run under tests/preload/malloc_count.so (an
 * LD_PRELOAD counter of malloc/calloc/realloc calls); a client warms a few
 * keep-alive connections up, the server's count is read, 10,000 more
 * requests go over the same connections, and the count is read again: it
 * must not grow with the requests. At most MAX_GROWTH allocations are
 * allowed over all 10,000: a free list or the timer heap may still reach a
 * new high-water mark once after the warm-up (seen: 1 in 4 runs of the web
 * app); per request that is 0.0002, where the code before the free lists
 * made 5 (hello) and 15 (web app). The oracle is the C library's
 * allocator, not ours.
 * The same library counts epoll_ctl calls: every request's recv waits, and
 * lazy deregistration (chapter 10) keeps the socket registered between
 * requests, so the count must not grow with the requests either (before
 * it, 2 per request). Checked only with the epoll backend.
 * Skipped under ASan: ASan interposes malloc itself and must come first. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

enum { CONNS = 4, WARMUP = 2000, REQUESTS = 10000, MAX_GROWTH = 2 };

#ifndef __SANITIZE_ADDRESS__
/* The counter library beside this test binary (build/tests/). */
static int preload_path(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(buf, cap, "%s/malloc_count.so", self);
    return access(buf, R_OK);
}

/* Ask the server for its counts (SIGUSR1) and wait for answer number seq:
   the count of allocations, and of epoll_ctl calls in *ctls. */
static long read_count(pid_t pid, const char *path, int seq, long *ctls)
{
    if (kill(pid, SIGUSR1) < 0)
        return -1;
    char want[32];
    snprintf(want, sizeof want, "%d ", seq);
    for (int i = 0; i < 500; i++) {         /* at most 5 s */
        char *s = sup_read_file(path);
        long calls = -1;
        char *end;
        if (s != NULL && strncmp(s, want, strlen(want)) == 0 && strchr(s, '\n')) {
            calls = strtol(s + strlen(want), &end, 10);
            *ctls = strtol(end, NULL, 10);
        }
        free(s);
        if (calls >= 0)
            return calls;
        sup_sleep_ms(10);
    }
    return -1;
}

/* One request on fd and its whole reply (the reply's length is known:
   reply_len bytes, or for HTTP the head's Content-Length). 0 or -1. */
static int one_request(int fd, const char *req, int http)
{
    if (sup_send_str(fd, req) < 0)
        return -1;
    char buf[8192];
    size_t got = 0, want = http ? 0 : strlen("Hello world!\n");
    for (;;) {
        ssize_t n = sup_recv_timeout(fd, buf + got, sizeof buf - got, 5000);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        if (http && want == 0) {
            char *end = strstr(buf, "\r\n\r\n");
            char *cl = strcasestr(buf, "Content-Length:");
            if (end != NULL && cl != NULL)
                want = (size_t)(end + 4 - buf) + (size_t)atol(cl + 15);
        }
        if (want != 0 && got >= want)
            return got == want ? 0 : -1;
        if (got >= sizeof buf - 1)
            return -1;
    }
}

static void run_requests(int *fds, int n, const char *req, int http)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(one_request(fds[i % CONNS], req, http), 0);
}

#endif

static void check_no_growth(const char *prog, const char *req, int http)
{
#ifdef __SANITIZE_ADDRESS__
    (void)prog, (void)req, (void)http;
    skip();
#else
    char so[PATH_MAX + 32], counts[256], out[256], portstr[16];
    assert_int_equal(preload_path(so, sizeof so), 0);
    sup_tmp_path(counts, sizeof counts, "malloc-count");
    sup_tmp_path(out, sizeof out, "alloc-server");
    unlink(counts);
    int port = sup_free_port();
    assert_true(port > 0);
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {(char *)prog, "--port", portstr, NULL};
    setenv("LD_PRELOAD", so, 1);
    setenv("MALLOC_COUNT_FILE", counts, 1);
    pid_t pid = sup_spawn(prog, argv, out);
    unsetenv("LD_PRELOAD");
    unsetenv("MALLOC_COUNT_FILE");
    assert_true(pid > 0);
    assert_int_equal(sup_wait_port(port, 5000), 0);
    int fds[CONNS];
    for (int i = 0; i < CONNS; i++) {
        fds[i] = sup_connect(port, 2000);
        assert_true(fds[i] >= 0);
    }
    run_requests(fds, WARMUP, req, http);       /* warm: pools, buffers */
    long ctl_before = -1, ctl_after = -1;
    long before = read_count(pid, counts, 1, &ctl_before);
    run_requests(fds, REQUESTS, req, http);
    long after = read_count(pid, counts, 2, &ctl_after);
    print_message("%s: %ld allocations before, %ld after %d requests: %.3f per request\n",
                  prog, before, after, REQUESTS,
                  (double)(after - before) / REQUESTS);
    print_message("%s: %ld epoll_ctl before, %ld after: %.3f per request\n",
                  prog, ctl_before, ctl_after,
                  (double)(ctl_after - ctl_before) / REQUESTS);
    for (int i = 0; i < CONNS; i++)
        close(fds[i]);
    assert_int_equal(sup_stop(pid, 5000), 0);
    assert_true(before > 0);
    assert_true(after - before <= MAX_GROWTH);
    const char *backend = getenv("SELECTOR_BACKEND");
    if (backend == NULL || *backend == '\0' || strcmp(backend, "epoll") == 0) {
        assert_true(ctl_before > 0);
        assert_true(ctl_after - ctl_before <= MAX_GROWTH);
    }
    unlink(counts);
    unlink(out);
#endif
}

static void test_hello_server_allocates_nothing_per_request(void **state)
{
    (void)state;
    check_no_growth("sockets-hello", "ping\n", 0);
}

static void test_webapp_allocates_nothing_per_request(void **state)
{
    (void)state;
    check_no_growth("sockets-webapp", "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_server_allocates_nothing_per_request),
        cmocka_unit_test(test_webapp_allocates_nothing_per_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
