/* test_hostile.c — hostile clients against every server of the book that
 * claims to serve many clients at once: the select server (chapter 3), the
 * selectors server with each backend (4), the generator server (5), the
 * coroutine Hello world and the keep-alive web app (8), the image server (9)
 * once it is built.
 *
 * Every case runs against a fresh server and has the same frame:
 *   - count the server's descriptors (/proc/PID/fd) before anything;
 *   - a "witness" client connects and is served;
 *   - the hostile clients do their thing;
 *   - the witness is served again on the same connection (the others were
 *     served while the attack went on), and a fresh client is served;
 *   - every client closes; the server's descriptor count comes back to what
 *     it was (nothing leaked);
 *   - SIGTERM: the server exits with status 0 and its log holds no
 *     sanitizer report.
 * The cases: slowloris (idle connections), resets mid-request and
 * mid-response (SO_LINGER 0), half-closed connections, a request larger
 * than any buffer, binary garbage, a request in one-byte writes, connection
 * churn, a request head trickled a byte at a time for ever (only for the
 * servers with an idle timeout: it must be a deadline for the whole head,
 * not for each read), and descriptor exhaustion (RLIMIT_NOFILE lowered under the running
 * server with prlimit: accept fails with EMFILE; the server must keep its
 * connected clients, not spin, and recover).
 *
 * Loopback only; every wait is bounded; the server is stopped and reaped in
 * the teardown even when a case fails. HOSTILE_ONLY=substring runs only
 * the tests whose name contains it. */
#define _GNU_SOURCE /* prlimit(2) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

/* ------------------------------------------------------------ servers */

struct server_kind {
    const char *name;
    const char *prog;
    const char *args[6];  /* extra arguments, NULL-terminated */
    const char *request;  /* one ordinary request */
    const char *expect;   /* the reply contains this… */
    const char *end;      /* …and this, once it is complete */
    int http;             /* speaks HTTP: an over-long head is refused */
    int idle_timeout;     /* takes --idle-timeout and closes idle clients */
    const char *garbage;  /* the answer to a line of junk; NULL: closed unanswered */
    const char *big;      /* a request with a big reply (takes --send-timeout) */
};

#define HELLO "hello\n", "Hello world!", "Hello world!\n", 0, 0, "Hello world!", NULL
#define HELLO_IDLE "hello\n", "Hello world!", "Hello world!\n", 0, 1, "Hello world!", NULL
#define HTTP_GET "GET / HTTP/1.1\r\nHost: test\r\n\r\n", "HTTP/1.1 200 OK", "</html>", 1, 1, \
        "400 Bad Request", "GET / HTTP/1.1\r\nHost: test\r\n\r\n"
#define IMAGE_GET "GET /8/8 HTTP/1.1\r\nHost: test\r\n\r\n", "HTTP/1.1 302 ", \
        "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n", 1, 1, "400 Bad Request", \
        "GET /cache/1_1024_1024.png HTTP/1.1\r\nHost: test\r\n\r\n"

static const struct server_kind kinds[] = {
    {"select", "select-server", {NULL}, HELLO_IDLE},
    {"selectors-epoll", "selectors-server", {"--backend", "epoll", NULL}, HELLO},
    {"selectors-poll", "selectors-server", {"--backend", "poll", NULL}, HELLO},
    {"selectors-select", "selectors-server", {"--backend", "select", NULL}, HELLO},
    {"generators", "generators-server", {NULL}, HELLO_IDLE},
    {"async-hello", "sockets-hello", {NULL}, HELLO},
    {"async-webapp", "sockets-webapp", {NULL}, HTTP_GET},
    {"imageserver", "images-imageserver", {"--latency", "5", "--jitter", "0"}, IMAGE_GET},
};
enum { NKINDS = sizeof kinds / sizeof kinds[0] };

/* ------------------------------------------------------------ state */

enum { MAXFDS = 256, EXCHANGE_MS = 5000 };

struct hstate {
    const struct server_kind *k;
    const struct hcase *c;
    struct sup_server srv;
    int fds[MAXFDS];
    int nfds;
};

struct hcase {
    const char *name;
    void (*run)(struct hstate *st);
    int idle_timeout_s; /* for servers that take it: 0 = a long one (60) */
    int idle_only;      /* run only against servers with an idle timeout */
    int needs;          /* 1: only servers with a big request (a send deadline);
                           2: only Hello servers (with an idle timeout: chapters 3, 5);
                           3: only HTTP servers */
};

static int track(struct hstate *st, int fd)
{
    assert_true(fd >= 0);
    assert_true(st->nfds < MAXFDS);
    st->fds[st->nfds++] = fd;
    return fd;
}

static void close_all(struct hstate *st)
{
    for (int i = 0; i < st->nfds; i++)
        if (st->fds[i] >= 0)
            close(st->fds[i]);
    st->nfds = 0;
}

static int client(struct hstate *st)
{
    return track(st, sup_connect(st->srv.port, 2000));
}

/* Close with RST instead of FIN: SO_LINGER with a zero timeout. */
static void reset_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void untrack_reset(struct hstate *st, int fd)
{
    for (int i = 0; i < st->nfds; i++)
        if (st->fds[i] == fd)
            st->fds[i] = -1;
    reset_close(fd);
}

/* Read into buf until it holds both needles, EOF, an error or the
 * deadline. Returns the bytes read, or -errno of the first failing recv
 * if nothing came. */
static ssize_t read_until(int fd, char *buf, size_t cap, const char *a,
                          const char *b, int timeout_ms)
{
    size_t len = 0;
    long long deadline = sup_now_ms() + timeout_ms;
    buf[0] = '\0';
    while (len + 1 < cap) {
        if (strstr(buf, a) && strstr(buf, b))
            break;
        long long left = deadline - sup_now_ms();
        if (left <= 0)
            break;
        ssize_t n = sup_recv_timeout(fd, buf + len, cap - len, (int)left);
        if (n <= 0)
            return len > 0 ? (ssize_t)len : n;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

/* One ordinary request on fd, the whole reply read. 0 or -1. */
static int exchange(struct hstate *st, int fd)
{
    char buf[8192];
    if (sup_send_str(fd, st->k->request) < 0)
        return -1;
    read_until(fd, buf, sizeof buf, st->k->expect, st->k->end, EXCHANGE_MS);
    return strstr(buf, st->k->expect) && strstr(buf, st->k->end) ? 0 : -1;
}

static int fresh_exchange(struct hstate *st)
{
    int fd = sup_connect(st->srv.port, 2000);
    if (fd < 0)
        return -1;
    int rc = exchange(st, fd);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------ /proc */

static int count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The smallest descriptor limit under which pid can open exactly `room`
 * more descriptors: new ones take the lowest free numbers, so count the
 * free numbers from 0 up. (Descriptors above the limit stay valid: the
 * server may have inherited some high ones from whoever started us.) */
static int limit_with_room(pid_t pid, int room)
{
    char path[64];
    for (int fd = 0; fd < 65536; fd++) {
        snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
        if (access(path, F_OK) != 0 && --room == 0)
            return fd + 1;
    }
    return -1;
}

/* Wait until the server holds exactly want descriptors; the last count. */
static int settle_fds(pid_t pid, int want, int timeout_ms)
{
    long long deadline = sup_now_ms() + timeout_ms;
    int n;
    while ((n = count_fds(pid)) != want && sup_now_ms() < deadline)
        sup_sleep_ms(20);
    return n;
}

/* User+system CPU time of pid, in clock ticks; -1 if unknown. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may hold spaces */
    if (p == NULL)
        return -1;
    unsigned long ut, stime;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
       majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &stime) != 2)
        return -1;
    return (long)(ut + stime);
}

static int alive(pid_t pid)
{
    return kill(pid, 0) == 0;
}

/* ------------------------------------------------------------ helpers */

/* Send len bytes of data (nonblocking), reading whatever comes back into
 * reply meanwhile, for at most timeout_ms. Stops early when the peer
 * closes or resets. Returns the bytes sent; *err gets the error that
 * stopped it (0 if all went). */
static size_t pump(int fd, const char *data, size_t len, char *reply, size_t cap,
                   size_t *got, int *err, int timeout_ms)
{
    size_t sent = 0;
    long long deadline = sup_now_ms() + timeout_ms;
    *err = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (sent < len && sup_now_ms() < deadline) {
        struct pollfd p = {fd, POLLIN | POLLOUT, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (p.revents & POLLIN) {
            ssize_t n = recv(fd, reply + *got, cap - 1 - *got, 0);
            if (n > 0) {
                *got += (size_t)n;
                reply[*got] = '\0';
                if (*got + 1 == cap)
                    *got = 0; /* keep only the tail: we look for a marker */
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                *err = n == 0 ? EPIPE : errno;
                break;
            }
        }
        if (p.revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                *err = errno;
                break;
            }
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return sent;
}

static uint32_t rng = 2463534242u;
static uint32_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* ------------------------------------------------------------ cases */

/* Connect and send nothing. Servers with an idle timeout close such
 * clients; the others keep them and serve everybody else meanwhile. */
static void case_slowloris(struct hstate *st)
{
    enum { IDLE = 40 };
    int fds[IDLE];
    for (int i = 0; i < IDLE; i++)
        fds[i] = client(st);
    sup_sleep_ms(200);
    assert_int_equal(fresh_exchange(st), 0);
    char buf[256];
    if (st->k->idle_timeout) {
        /* --idle-timeout 1: every idle client gets EOF within a few s. */
        for (int i = 0; i < IDLE; i++) {
            ssize_t n = sup_recv_timeout(fds[i], buf, sizeof buf, 4000);
            assert_true(n == 0 || n == -ECONNRESET);
        }
    } else {
        /* Still open after a while, and served when they finally speak. */
        sup_sleep_ms(300);
        assert_int_equal(sup_recv_timeout(fds[0], buf, sizeof buf, 50), -ETIMEDOUT);
        assert_int_equal(exchange(st, fds[0]), 0);
        assert_int_equal(exchange(st, fds[IDLE - 1]), 0);
    }
}

/* A slow slowloris: one request served, then the next head one byte every
 * 0.3 s, never finished. With --idle-timeout 1 every single read comes
 * well within the timeout; only a deadline for the whole head (counted
 * from the end of the previous reply) closes the connection. Meanwhile
 * fresh clients are served. */
static void case_trickle(struct hstate *st)
{
    enum { STEP_MS = 300, BOUND_MS = 4000 };
    int fd = client(st);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    assert_int_equal(exchange(st, fd), 0);
    long long start = sup_now_ms();
    const char *head = "GET / HTTP/1.1\r\nX-Trickle: ";
    int closed = 0, served = 0;
    char buf[512];
    for (size_t i = 0; !closed && sup_now_ms() - start < BOUND_MS; i++) {
        char c = head[i] ? head[i] : 'a'; /* the header value never ends */
        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
            closed = 1; /* EPIPE / ECONNRESET: the server has closed */
            break;
        }
        ssize_t n = sup_recv_timeout(fd, buf, sizeof buf, STEP_MS);
        assert_true(n <= 0);          /* no reply to half a head */
        closed = n == 0 || n == -ECONNRESET;
        if (i % 3 == 1 && fresh_exchange(st) == 0)
            served++;
    }
    if (!closed)
        fprintf(stderr, "%s/trickle: still open after %d ms of one byte every %d ms\n",
                st->k->name, BOUND_MS, STEP_MS);
    assert_true(closed);
    assert_true(served >= 1);
}

/* Half a request, then RST. */
static void case_reset_mid_request(struct hstate *st)
{
    size_t half = strlen(st->k->request) / 2;
    for (int i = 0; i < 50; i++) {
        int fd = client(st);
        assert_int_equal(send(fd, st->k->request, half, MSG_NOSIGNAL), (ssize_t)half);
        if (i % 2)
            sup_sleep_ms(2); /* let the server read it first, sometimes */
        untrack_reset(st, fd);
    }
}

/* Many requests, the replies left unread, then RST: the server is
 * writing (or about to write) to a connection that is gone. */
static void case_reset_mid_response(struct hstate *st)
{
    size_t rl = strlen(st->k->request);
    enum { N = 2000 };
    char *many = malloc(rl * N);
    assert_non_null(many);
    for (int i = 0; i < N; i++)
        memcpy(many + (size_t)i * rl, st->k->request, rl);
    for (int i = 0; i < 20; i++) {
        int fd = client(st);
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        size_t amount = i % 2 ? rl * N : rl;
        char reply[4096];
        size_t got = 0;
        int err;
        pump(fd, many, amount, reply, sizeof reply, &got, &err, 300);
        if (i % 4 == 3) {
            char b[64];
            sup_recv_timeout(fd, b, sizeof b, 200); /* a bit of the reply */
        }
        untrack_reset(st, fd);
    }
    free(many);
}

/* The request, then shutdown(SHUT_WR): the reply must still come. */
static void case_half_close(struct hstate *st)
{
    for (int i = 0; i < 10; i++) {
        int fd = client(st);
        assert_int_equal(sup_send_str(fd, st->k->request), 0);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        char buf[8192];
        read_until(fd, buf, sizeof buf, st->k->expect, st->k->end, EXCHANGE_MS);
        assert_non_null(strstr(buf, st->k->expect));
        assert_non_null(strstr(buf, st->k->end));
        /* and then the server closes its side too */
        ssize_t n;
        while ((n = sup_recv_timeout(fd, buf, sizeof buf, EXCHANGE_MS)) > 0) {
        }
        assert_true(n == 0 || n == -ECONNRESET);
    }
}

/* 4 MiB in one request: more than any buffer of any server. HTTP
 * servers answer 400 (or reset, when they close with our bytes unread);
 * the Hello servers answer each piece they read. */
static void case_huge_request(struct hstate *st)
{
    enum { BIG = 4 << 20 };
    char *big = malloc(BIG);
    assert_non_null(big);
    memset(big, 'a', BIG);
    if (st->k->http)
        memcpy(big, "GET /", 5);
    int fd = client(st);
    char reply[8192];
    size_t got = 0;
    int err;
    size_t sent = pump(fd, big, BIG, reply, sizeof reply, &got, &err, 10000);
    free(big);
    if (st->k->http) {
        if (err == 0) { /* all sent: the answer must still come */
            read_until(fd, reply + got, sizeof reply - got, "400", "400", EXCHANGE_MS);
        }
        assert_true(strstr(reply, "400") != NULL || err == ECONNRESET || err == EPIPE);
        assert_null(strstr(reply, "200 OK"));
        assert_true(sent < BIG || strstr(reply, "400"));
    } else {
        assert_int_equal(sent, BIG);
        read_until(fd, reply + got, sizeof reply - got, "Hello", "Hello", EXCHANGE_MS);
        assert_non_null(strstr(reply, "Hello world!"));
    }
}

/* Random bytes, NULs included: a long run of them, then a short one
 * without NULs that ends in an empty line (for HTTP: a clear 400). */
static void case_garbage(struct hstate *st)
{
    enum { LONG = 64 * 1024, SHORT = 1000 };
    char *junk = malloc(LONG);
    assert_non_null(junk);
    for (int i = 0; i < LONG; i++)
        junk[i] = (char)xorshift();
    int fd = client(st);
    char reply[8192];
    size_t got = 0;
    int err;
    pump(fd, junk, LONG, reply, sizeof reply, &got, &err, 5000);
    if (!st->k->http)
        assert_int_equal(err, 0);
    untrack_reset(st, fd);

    for (int i = 0; i < SHORT; i++)
        do
            junk[i] = (char)xorshift();
        while (junk[i] == '\0' || junk[i] == '\n');
    memcpy(junk + SHORT - 4, "\r\n\r\n", 4);
    junk[SHORT] = '\0';
    fd = client(st);
    assert_int_equal(sup_send_str(fd, junk), 0);
    free(junk);
    const char *want = st->k->garbage;
    ssize_t n = read_until(fd, reply, sizeof reply, want ? want : "\1", want ? want : "\1",
                           EXCHANGE_MS);
    if (want)
        assert_non_null(strstr(reply, want));
    else /* closed without a word */
        assert_true(n == 0 || n == -ECONNRESET);
}

/* The request in one-byte writes, TCP_NODELAY so each is a segment. */
static void case_one_byte_writes(struct hstate *st)
{
    int fd = client(st);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const char *r = st->k->request;
    for (size_t i = 0; r[i]; i++) {
        assert_int_equal(send(fd, r + i, 1, MSG_NOSIGNAL), 1);
        sup_sleep_ms(2);
    }
    char buf[8192];
    read_until(fd, buf, sizeof buf, st->k->expect, st->k->end, EXCHANGE_MS);
    assert_non_null(strstr(buf, st->k->expect));
    assert_non_null(strstr(buf, st->k->end));
}

/* Thousands of short connections: closed at once, reset, or after one
 * request. Bounded by count and by time. */
static void case_churn(struct hstate *st)
{
    enum { CYCLES = 3000 };
    long long deadline = sup_now_ms() + 30000;
    int done = 0;
    for (; done < CYCLES && sup_now_ms() < deadline; done++) {
        int fd = sup_connect(st->srv.port, 2000);
        assert_true(fd >= 0);
        switch (done % 3) {
        case 0:
            close(fd);
            break;
        case 1:
            reset_close(fd);
            break;
        default:
            sup_send_str(fd, st->k->request);
            close(fd);
        }
    }
    assert_int_equal(done, CYCLES);
}

/* Lower the server's descriptor limit under it so that only a few more
 * connections fit; connect many more; accept meets EMFILE. */
static void case_emfile(struct hstate *st)
{
    enum { EXTRA = 4, CLIENTS = 40 };
    int limit = limit_with_room(st->srv.pid, EXTRA);
    assert_true(limit > 0);
    struct rlimit lim = {(rlim_t)limit, (rlim_t)limit};
    assert_int_equal(prlimit(st->srv.pid, RLIMIT_NOFILE, &lim, NULL), 0);

    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = client(st);
        sup_sleep_ms(5); /* in order: the first ones are accepted */
    }
    /* The server met EMFILE and said so. */
    int emfile = sup_wait_output(st->srv.log, "Too many open files", 3000) == 0
                 || sup_wait_output(st->srv.log, "EMFILE", 10) == 0;
    if (!emfile) {
        char *log = sup_read_file(st->srv.log);
        fprintf(stderr, "no EMFILE in the log (limit %d):\n%s\n", limit, log ? log : "?");
        free(log);
    }
    assert_true(emfile);

    /* Which clients got in? The first few; ask all at once. */
    int served = 0, first_served = -1;
    for (int i = 0; i < CLIENTS; i++)
        sup_send_str(fds[i], st->k->request);
    long long deadline = sup_now_ms() + 2000;
    int answered[CLIENTS] = {0};
    char buf[8192];
    while (sup_now_ms() < deadline) {
        struct pollfd p[CLIENTS];
        for (int i = 0; i < CLIENTS; i++)
            p[i] = (struct pollfd){answered[i] ? -1 : fds[i], POLLIN, 0};
        if (poll(p, CLIENTS, 100) <= 0)
            continue;
        for (int i = 0; i < CLIENTS; i++)
            if (p[i].revents) {
                ssize_t n = recv(fds[i], buf, sizeof buf - 1, 0);
                answered[i] = 1;
                if (n > 0) {
                    buf[n] = '\0';
                    if (strstr(buf, st->k->expect)) {
                        served++;
                        if (first_served < 0)
                            first_served = i;
                    }
                }
            }
    }
    assert_true(served >= 1);
    assert_true(served < CLIENTS);

    /* It does not spin: over a quiet second it uses little CPU. */
    long hz = sysconf(_SC_CLK_TCK);
    long t0 = cpu_ticks(st->srv.pid);
    sup_sleep_ms(1000);
    long t1 = cpu_ticks(st->srv.pid);
    assert_true(t0 >= 0 && t1 >= t0);
    assert_true(t1 - t0 < hz / 4); /* well under a quarter of a second */

    /* Connected clients are still served, more than once. */
    for (int round = 0; round < 2; round++) {
        if (st->k->http) /* keep-alive: drain the rest of the first reply */
            read_until(fds[first_served], buf, sizeof buf, st->k->end, st->k->end, 500);
        assert_int_equal(exchange(st, fds[first_served]), 0);
    }

    /* Free the descriptors: everyone but the witness leaves; new clients
       are served again. */
    for (int i = 0; i < CLIENTS; i++)
        untrack_reset(st, fds[i]);
    deadline = sup_now_ms() + 5000;
    int ok = -1;
    while (ok != 0 && sup_now_ms() < deadline)
        if ((ok = fresh_exchange(st)) != 0)
            sup_sleep_ms(100);
    assert_int_equal(ok, 0);
}

/* Finding 7: 1100 silent connections fill every descriptor number a
 * select() server can watch (FD_SETSIZE), so every new client is refused.
 * With an idle timeout (1 s here) the silent ones are closed and a new
 * client is served within a few seconds; without one, never. */
static void case_lockout(struct hstate *st)
{
    enum { SILENT = 1100 };
    if (sup_raise_nofile(SILENT + 256) < 0) {
        fprintf(stderr, "lockout: cannot raise RLIMIT_NOFILE, skipped\n");
        return;
    }
    int *fds = malloc(SILENT * sizeof *fds);
    assert_non_null(fds);
    int opened = 0;
    for (; opened < SILENT; opened++)
        if ((fds[opened] = sup_connect(st->srv.port, 2000)) < 0)
            break;
    assert_true(opened > 1024);   /* more than select() can watch */
    long long deadline = sup_now_ms() + 6000;
    int ok = -1;
    while (ok != 0 && sup_now_ms() < deadline)
        if ((ok = fresh_exchange(st)) != 0)
            sup_sleep_ms(200);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    if (ok != 0)
        fprintf(stderr, "%s/lockout: no new client served for 6 s after %d silent ones\n",
                st->k->name, opened);
    assert_int_equal(ok, 0);
}

/* Finding 6: requests pipelined on a few connections whose replies are
 * never read. The server must not hold them: its send deadline
 * (--send-timeout 1) closes each, our sends then fail (EPIPE/ECONNRESET);
 * and meanwhile its memory stays bounded (VmRSS, a property, not a speed). */
static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void case_no_reader(struct hstate *st)
{
    enum { CONNS = 8, REPEAT = 2000, BOUND_MS = 8000 };
    const char *req = st->k->big;
    size_t rl = strlen(req), total = rl * REPEAT;
    char *many = malloc(total);
    assert_non_null(many);
    for (int i = 0; i < REPEAT; i++)
        memcpy(many + (size_t)i * rl, req, rl);
    long rss0 = rss_kb(st->srv.pid), peak = rss0;
    int fds[CONNS], closed[CONNS] = {0}, nclosed = 0;
    size_t sent[CONNS] = {0};
    for (int i = 0; i < CONNS; i++) {
        fds[i] = client(st);
        int small = 4096;
        setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    long long start = sup_now_ms();
    while (nclosed < CONNS && sup_now_ms() - start < BOUND_MS) {
        for (int i = 0; i < CONNS; i++) {
            if (closed[i])
                continue;
            size_t at = sent[i] % total;
            ssize_t n = send(fds[i], many + at, total - at, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent[i] += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                closed[i] = 1, nclosed++;
        }
        long rss = rss_kb(st->srv.pid);
        if (rss > peak)
            peak = rss;
        sup_sleep_ms(20);
    }
    free(many);
    fprintf(stderr, "%s/no-reader: %d of %d closed in %lld ms; server RSS %ld -> peak %ld kB\n",
            st->k->name, nclosed, CONNS, sup_now_ms() - start, rss0, peak);
    assert_int_equal(nclosed, CONNS);
    assert_true(peak - rss0 < 256 * 1024);   /* bounded: one reply per connection */
}

static const struct hcase cases[] = {
    {"slowloris", case_slowloris, 1, 0, 0},
    {"trickle", case_trickle, 1, 1, 3},
    {"reset-mid-request", case_reset_mid_request, 0, 0, 0},
    {"reset-mid-response", case_reset_mid_response, 0, 0, 0},
    {"half-close", case_half_close, 0, 0, 0},
    {"huge-request", case_huge_request, 0, 0, 0},
    {"garbage", case_garbage, 0, 0, 0},
    {"one-byte-writes", case_one_byte_writes, 0, 0, 0},
    {"churn", case_churn, 0, 0, 0},
    {"emfile", case_emfile, 0, 0, 0},
    {"lockout", case_lockout, 1, 1, 2},
    {"no-reader", case_no_reader, 0, 1, 1},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* ------------------------------------------------------------ frame */

static void start_server(struct hstate *st)
{
    char idle[16];
    char *args[10];
    int n = 0;
    for (int i = 0; st->k->args[i]; i++)
        args[n++] = (char *)st->k->args[i];
    if (st->k->idle_timeout) {
        snprintf(idle, sizeof idle, "%d", st->c->idle_timeout_s ? st->c->idle_timeout_s : 60);
        args[n++] = "--idle-timeout";
        args[n++] = idle;
    }
    if (st->c->needs == 1 && st->k->big) {
        args[n++] = "--send-timeout";
        args[n++] = "1";
    }
    args[n] = NULL;
    char tag[64];
    snprintf(tag, sizeof tag, "hostile-%s-%s", st->k->name, st->c->name);
    assert_int_equal(sup_server_start(&st->srv, st->k->prog, tag, args, 10000), 0);
    /* the port may listen before the server has opened everything it keeps
       (chapter 5 opens its spare descriptor after listen()): count the
       descriptors only once it says "Listening on" */
    assert_int_equal(sup_wait_output(st->srv.log, "Listening on ", 10000), 0);
}

static void run_case(void **state)
{
    struct hstate *st = *state;
    start_server(st);
    int base = count_fds(st->srv.pid);
    assert_true(base > 0);

    int witness = client(st);
    assert_int_equal(exchange(st, witness), 0);

    st->c->run(st);

    assert_true(alive(st->srv.pid));
    if (st->c->idle_timeout_s && st->k->idle_timeout) {
        /* the witness sat idle longer than the timeout: it is gone, as it
           should be; a new one stands in for it */
        witness = client(st);
    } else if (st->k->http) {
        char buf[8192]; /* keep-alive: the rest of the first reply, if any */
        read_until(witness, buf, sizeof buf, st->k->end, st->k->end, 200);
    }
    assert_int_equal(exchange(st, witness), 0);
    assert_int_equal(fresh_exchange(st), 0);

    close_all(st);
    int now = settle_fds(st->srv.pid, base, 5000);
    if (now != base)
        fprintf(stderr, "%s/%s: %d descriptors before, %d after\n", st->k->name, st->c->name, base, now);
    assert_int_equal(now, base);

    int status = sup_stop(st->srv.pid, 10000);
    st->srv.pid = 0;
    assert_int_equal(status, 0);
    char *log = sup_read_file(st->srv.log);
    assert_non_null(log);
    int clean = strstr(log, "Sanitizer") == NULL && strstr(log, "runtime error") == NULL;
    if (!clean)
        fprintf(stderr, "%s\n", log);
    free(log);
    assert_true(clean);
}

static int teardown(void **state)
{
    struct hstate *st = *state;
    close_all(st);
    if (st->srv.pid > 0) {
        sup_stop(st->srv.pid, 5000);
        st->srv.pid = 0;
    }
    if (st->srv.log[0])
        unlink(st->srv.log);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *only = getenv("HOSTILE_ONLY");
    static struct hstate states[NKINDS * NCASES];
    static struct CMUnitTest tests[NKINDS * NCASES];
    static char names[NKINDS * NCASES][64];
    size_t n = 0;
    for (int k = 0; k < NKINDS; k++)
        for (int c = 0; c < NCASES; c++) {
            if (cases[c].idle_only && !kinds[k].idle_timeout)
                continue;
            if ((cases[c].needs == 1 && !kinds[k].big) ||
                (cases[c].needs == 2 && kinds[k].http) ||
                (cases[c].needs == 3 && !kinds[k].http))
                continue;
            snprintf(names[n], sizeof names[n], "%s/%s", kinds[k].name, cases[c].name);
            if (only && !strstr(names[n], only))
                continue;
            states[n] = (struct hstate){.k = &kinds[k], .c = &cases[c]};
            tests[n] = (struct CMUnitTest){names[n], run_case, NULL, teardown, &states[n]};
            n++;
        }
    return _cmocka_run_group_tests("hostile", tests, n, NULL, NULL);
}
