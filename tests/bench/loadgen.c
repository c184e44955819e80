/* tests/bench/loadgen.c — a load client for the "Hello world!" servers
 * of chapters 02-04 (not a test; used by tests/bench/servers.sh).
 *
 *   loadgen PORT CLIENTS REQUESTS [WAIT_MS [IDLE]]
 *
 * First IDLE connections (default 0) are opened and stay silent to the
 * end: they cost a select/poll server work on every call, not epoll.
 * Phase 1: open CLIENTS connections at once, each sends one request;
 * wait up to WAIT_MS (default 2000) for the replies. "at_once" is how
 * many were answered while all of them were connected; "refused" how
 * many the server closed.
 * Phase 2: every answered client makes REQUESTS more round trips (one
 * request in flight per client), all clients concurrently; prints
 * requests per second. One line of tab-separated output:
 *   clients at_once refused requests seconds req_per_s
 * Independent of the book's library on purpose: it only uses poll(2). */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { REPLY = 13 };  /* "Hello world!\n" */

struct conn {
    int fd;
    int got;       /* bytes of the current reply received */
    int left;      /* round trips still to make */
    int state;     /* 0 waiting for a reply, 1 done, -1 dead */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Drive all live connections until none waits or the deadline passes.
 * A connection waiting for a reply that arrives in full either sends
 * its next request (if left > 0) or becomes done. */
static long drive(struct conn *c, int n, struct pollfd *p, double deadline)
{
    long replies = 0;
    for (;;) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (c[i].state == 0) {
                p[m].fd = c[i].fd;
                p[m].events = POLLIN;
                p[m].revents = 0;
                m++;
            }
        double left = deadline - now();
        if (m == 0 || left <= 0)
            return replies;
        int r = poll(p, (nfds_t)m, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR)
            return replies;
        for (int i = 0, k = 0; i < n && r > 0; i++) {
            if (c[i].state != 0)
                continue;
            if (p[k++].revents == 0)
                continue;
            char buf[256];
            ssize_t got = recv(c[i].fd, buf, sizeof buf, 0);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                c[i].state = -1;
                continue;
            }
            c[i].got += (int)got;
            while (c[i].got >= REPLY) {
                c[i].got -= REPLY;
                replies++;
                if (c[i].left > 0) {
                    c[i].left--;
                    if (send(c[i].fd, "ping\n", 5, MSG_NOSIGNAL) != 5)
                        c[i].state = -1;
                } else {
                    c[i].state = 1;
                }
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT CLIENTS REQUESTS [WAIT_MS]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]), reqs = atoi(argv[3]);
    int wait_ms = argc > 4 ? atoi(argv[4]) : 2000;
    int idle = argc > 5 ? atoi(argv[5]) : 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(n + idle) + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct conn *c = calloc((size_t)n, sizeof *c);
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    if (c == NULL || p == NULL)
        return 1;
    int *quiet = calloc((size_t)idle + 1, sizeof *quiet);
    if (quiet == NULL)
        return 1;
    for (int i = 0; i < idle; i++)
        quiet[i] = dial(port);
    int opened = 0;
    for (int i = 0; i < n; i++) {
        c[i].fd = dial(port);
        c[i].state = c[i].fd < 0 ? -1 : 0;
        opened += c[i].fd >= 0;
    }
    for (int i = 0; i < n; i++)
        if (c[i].state == 0 && send(c[i].fd, "ping\n", 5, MSG_NOSIGNAL) != 5)
            c[i].state = -1;
    /* phase 1: one request each, everyone connected */
    drive(c, n, p, now() + wait_ms / 1000.0);
    int at_once = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        at_once += c[i].state == 1;
        refused += c[i].state == -1;
    }
    /* phase 2: the answered ones do the real work */
    for (int i = 0; i < n; i++) {
        if (c[i].state == 1) {
            c[i].state = 0;
            c[i].left = reqs - 1;
            if (send(c[i].fd, "ping\n", 5, MSG_NOSIGNAL) != 5)
                c[i].state = -1;
        } else if (c[i].fd >= 0) {
            close(c[i].fd);      /* unanswered: give up on them */
            c[i].fd = -1;
            if (c[i].state == 0)
                c[i].state = 2;
        }
    }
    double t0 = now();
    long replies = drive(c, n, p, t0 + 30.0);
    double secs = now() - t0;
    for (int i = 0; i < n; i++)
        if (c[i].fd >= 0)
            close(c[i].fd);
    for (int i = 0; i < idle; i++)
        if (quiet[i] >= 0)
            close(quiet[i]);
    free(quiet);
    printf("%d\t%d\t%d\t%ld\t%.3f\t%.0f\n", n, at_once, refused + (n - opened),
           replies, secs, secs > 0 ? replies / secs : 0.0);
    free(c);
    free(p);
    return 0;
}
