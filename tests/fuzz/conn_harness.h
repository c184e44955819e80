/* tests/fuzz/conn_harness.h — what the fuzz targets of a connection
 * coroutine share (fuzz_webapp_keepalive.c, fuzz_imageserver.c): the input
 * is the byte stream one client sends on one connection, then EOF. It is
 * written whole into one end of a socketpair; the program's own coroutine
 * serves the other end on the book's event loop until it returns; a reader
 * on the loop collects the replies.
 *
 * Include it after the program's source (which brings net.h and aio.h).
 * Functions are static: the Makefile builds a target from its fuzz_NAME.c
 * and replay.c alone. */
#ifndef FUZZ_CONN_HARNESS_H
#define FUZZ_CONN_HARNESS_H

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn_sink {
    int fd;
    size_t len, cap;
    char *buf;
};

/* On the loop (and once more at the end): everything the server has sent
 * so far; the target's buffer must be big enough for any allowed input. */
static void conn_drain(void *arg, int events)
{
    (void)events;
    struct conn_sink *s = arg;
    for (;;) {
        assert(s->len < s->cap);
        ssize_t n = recv(s->fd, s->buf + s->len, s->cap - s->len, 0);
        if (n <= 0)
            return;
        s->len += (size_t)n;
    }
}

/* Serve data[0..size) with new_conn(fd, loop) (the program's function that
 * wraps its connection coroutine), write the replies into out[0..cap) and
 * return their length. The coroutine must end by returning, never by an
 * error, and must close its own end. size must fit in 1 MiB. */
static size_t conn_serve(gen *(*new_conn)(int fd, void *loop),
                         const uint8_t *data, size_t size, char *out, size_t cap)
{
    static int ready;
    if (!ready) {
        signal(SIGPIPE, SIG_IGN);
        ready = 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    /* The whole input must fit in the socket at once: the writer is us. */
    int big = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(sv[1], data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            abort();
        sent += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);
    net_set_nonblocking(sv[0]);
    net_set_nonblocking(sv[1]);

    aio_loop *loop;
    if (aio_loop_new(&loop) < 0)
        abort();
    struct conn_sink sink = {sv[1], 0, cap, out};
    aio_add_reader(loop, sv[1], conn_drain, &sink);
    aio_future *task = aio_create_task(loop, new_conn(sv[0], loop));
    assert(task != NULL);
    int rc = aio_loop_run_until_complete(loop, task);
    assert(rc == 0);
    assert(aio_future_outcome(task, NULL, NULL) == 0);
    aio_future_unref(task);
    aio_remove_reader(loop, sv[1]);
    aio_loop_free(loop); /* the coroutine closed sv[0] itself */
    conn_drain(&sink, 0);
    close(sv[1]);
    return sink.len;
}

/* needle in hay[0..len), which may hold NUL bytes; NULL if absent. */
static const char *conn_find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* One reply as the client sees it. */
struct conn_reply {
    int status;
    int keep;             /* "Connection: keep-alive" (else "close") */
    const char *head;     /* status line and fields, up to the blank line */
    size_t head_len;
    size_t length;        /* Content-Length */
    size_t body_len;      /* body bytes that came: length, 0 (HEAD) or fewer */
};

/* The properties every server of the book promises for any input, checked
 * on the byte stream alone (the oracle knows HTTP, not the server's code):
 * the output is a sequence of replies, each "HTTP/1.1 DDD Reason\r\n",
 * fields ending in a blank line, one Content-Length and one Connection
 * (keep-alive or close); a body of exactly Content-Length bytes, or none
 * at all (the reply to HEAD: the next reply or the end follows at once);
 * only the last reply may say close, and an unfinished body is allowed
 * only for the last one when cut_last. Returns the number of replies. */
static size_t conn_split(const char *out, size_t len, struct conn_reply *r, size_t max,
                         int cut_last)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        assert(n < max);
        const char *p = out + pos;
        size_t rest = len - pos;
        assert(rest > 13 && memcmp(p, "HTTP/1.1 ", 9) == 0);
        assert(p[9] >= '1' && p[9] <= '5' && p[12] == ' ');
        const char *end = conn_find(p, rest, "\r\n\r\n");
        assert(end != NULL);
        struct conn_reply *c = &r[n++];
        c->status = atoi(p + 9);
        c->head = p;
        c->head_len = (size_t)(end + 4 - p);
        const char *cl = conn_find(p, c->head_len, "\r\nContent-Length: ");
        assert(cl != NULL && conn_find(cl + 2, c->head_len - (size_t)(cl + 2 - p),
                                        "\r\nContent-Length: ") == NULL);
        c->length = strtoul(cl + 18, NULL, 10);
        int keep = conn_find(p, c->head_len, "\r\nConnection: keep-alive\r\n") != NULL;
        int close_ = conn_find(p, c->head_len, "\r\nConnection: close\r\n") != NULL;
        assert(keep + close_ == 1);
        c->keep = keep;
        size_t after = rest - c->head_len;
        const char *next = p + c->head_len;
        if (after == 0 || (after >= 9 && memcmp(next, "HTTP/1.1 ", 9) == 0))
            c->body_len = 0;                       /* HEAD, or an empty body */
        else
            c->body_len = after < c->length ? after : c->length;
        pos += c->head_len + c->body_len;
        if (c->body_len != 0 && c->body_len != c->length)
            assert(cut_last && pos == len);       /* a body cut short: the end */
        if (!c->keep)
            assert(pos == len);                    /* nothing after "close" */
    }
    return n;
}

/* Blank lines in the input: every request head ends with one, so no
 * server may send more replies than this, plus one (an error reply may
 * come before any blank line, and it is always the last). */
static size_t conn_blank_lines(const uint8_t *data, size_t size)
{
    size_t n = 0;
    for (size_t i = 1; i < size; i++)
        if (data[i] == '\n' && (data[i - 1] == '\n' ||
                                 (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n')))
            n++;
    return n;
}

#endif
