/* Fuzz target: the keep-alive connection of chapter 8's web app
 * (08-asyncio/webapp.c), driven for real. The input is the byte stream one
 * client sends on one connection: possibly several pipelined requests, then
 * EOF. The program's own connection coroutine (conn_body, via new_conn)
 * serves it on one end of a socketpair, on the chapter's event loop; the
 * other end collects the replies.
 *
 * The replies are then checked against a model of the framing that is
 * written here independently of the coroutine:
 *   - a request head is the shortest prefix of the unread input that ends
 *     with an empty line ("\r\n\r\n" or "\n\n") and holds no NUL (the server
 *     finds the end with strstr), looked for within the server's buffer,
 *     HTTP_HEAD_MAX - 1 bytes;
 *   - no end within a full buffer: "400" and the connection is closed;
 *   - input ends without an empty line: no reply, the connection is closed;
 *   - otherwise the status is what http_route_request says about that head
 *     alone, and the connection stays open iff the status is not 400 and
 *     wants_keep_alive says so about that head alone (copied, so that the
 *     bytes of the next pipelined request cannot sway the decision).
 * Every reply must be a complete HTTP/1.1 response whose Content-Length
 * matches its body, and the sequence of statuses must be the model's.
 *
 * The program's file is included (with its main renamed) because the
 * coroutine and its helpers are static there; the include path is
 * build/src/lib, so the #line directives point into book/08-asyncio.nw. */
#include <stdarg.h>
#include <stdio.h>

/* new_conn prints "Connection from: …" for every input: keep the
   program's printf quiet (its stdio.h is already included above). */
static int quiet_printf(const char *fmt, ...)
{
    (void)fmt;
    return 0;
}
#define printf quiet_printf
#define main webapp_main
#include "../08-asyncio/webapp.c"
#undef main
#undef printf

#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

enum { MAX_REPLIES = 16384, OUT_CAP = 1 << 22 };

struct sink {
    int fd;
    size_t len;
    char *buf;
};

static void drain(void *arg)
{
    struct sink *s = arg;
    for (;;) {
        assert(s->len < OUT_CAP);  /* 64 KiB of input never asks for more */
        ssize_t n = recv(s->fd, s->buf + s->len, OUT_CAP - s->len, 0);
        if (n <= 0)
            return;
        s->len += (size_t)n;
    }
}

/* The model: the statuses the server must send for this input. */
static size_t expected_statuses(const uint8_t *data, size_t size, int *status)
{
    enum { WINDOW = HTTP_HEAD_MAX - 1 };
    static char head[HTTP_HEAD_MAX];
    size_t pos = 0, n = 0;
    while (pos < size && n < MAX_REPLIES) {
        size_t avail = size - pos < WINDOW ? size - pos : WINDOW, end = 0;
        for (size_t i = 0; i < avail && end == 0; i++) {
            if (data[pos + i] == '\0')
                break;
            if (i >= 1 && data[pos + i] == '\n' && data[pos + i - 1] == '\n')
                end = i + 1;
            else if (i >= 3 && memcmp(data + pos + i - 3, "\r\n\r\n", 4) == 0)
                end = i + 1;
        }
        if (end == 0) {
            if (avail == WINDOW)
                status[n++] = 400;  /* too long: 400, then close */
            return n;               /* or EOF before the end: close */
        }
        memcpy(head, data + pos, end);
        head[end] = '\0';
        struct http_reply reply;
        http_route_request(webapp_routes, head, end, &reply);
        status[n++] = reply.status;
        if (reply.status == 400 || !wants_keep_alive(head, end))
            return n;
        pos += end;
    }
    return n;
}

static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* Split the output into responses; their statuses into status[]. */
static size_t parse_replies(const char *out, size_t len, int *status)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        assert(n < MAX_REPLIES);
        const char *p = out + pos;
        assert(len - pos > 12 && memcmp(p, "HTTP/1.1 ", 9) == 0);
        status[n++] = atoi(p + 9);
        const char *end = find(p, len - pos, "\r\n\r\n");
        assert(end != NULL);
        const char *cl = find(p, (size_t)(end - p), "Content-Length: ");
        assert(cl != NULL);
        size_t body = strtoul(cl + 16, NULL, 10);
        pos = (size_t)(end + 4 - out) + body;
        assert(pos <= len);
    }
    return n;
}

static int setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static int want[MAX_REPLIES], got[MAX_REPLIES];
    static char out[OUT_CAP];
    if (!ready)
        ready = setup() == 0;
    if (size > 65536)
        return 0;

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
    struct sink sink = {sv[1], 0, out};
    aio_add_reader(loop, sv[1], drain, &sink);
    aio_future *task = aio_create_task(loop, new_conn(sv[0], loop));
    assert(task != NULL);
    int rc = aio_loop_run_until_complete(loop, task);
    assert(rc == 0);
    gen_value v;
    gen_error e;
    /* The coroutine ends every connection by returning, never by an error. */
    assert(aio_future_outcome(task, &v, &e) == 0);
    aio_future_unref(task);
    aio_remove_reader(loop, sv[1]);
    aio_loop_free(loop);  /* conn_body closed sv[0] itself */
    drain(&sink);
    close(sv[1]);

    size_t nwant = expected_statuses(data, size, want);
    size_t ngot = parse_replies(out, sink.len, got);
    assert(ngot == nwant);
    for (size_t i = 0; i < ngot; i++)
        assert(got[i] == want[i]);
    return 0;
}
