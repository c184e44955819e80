/* Fuzz target: the keep-alive connection of chapter 10's web app
 * (chapter NN-sockets, webapp.c), driven for real. The input is the byte stream one
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
 * build/src/lib, so the #line directives point into book/10-sockets.nw. */
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
#include "sockets/webapp.c"
#undef main
#undef printf

#include "conn_harness.h"

/* 64 KiB of input never asks for more than OUT_CAP of replies */
enum { MAX_REPLIES = 16384, OUT_CAP = 1 << 22 };

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

/* Split the output into responses; their statuses into status[]. */
static size_t parse_replies(const char *out, size_t len, int *status)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        assert(n < MAX_REPLIES);
        const char *p = out + pos;
        assert(len - pos > 12 && memcmp(p, "HTTP/1.1 ", 9) == 0);
        status[n++] = atoi(p + 9);
        const char *end = conn_find(p, len - pos, "\r\n\r\n");
        assert(end != NULL);
        const char *cl = conn_find(p, (size_t)(end - p), "Content-Length: ");
        assert(cl != NULL);
        size_t body = strtoul(cl + 16, NULL, 10);
        pos = (size_t)(end + 4 - out) + body;
        assert(pos <= len);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int want[MAX_REPLIES], got[MAX_REPLIES];
    static char out[OUT_CAP];
    if (size > 65536)
        return 0;
    size_t len = conn_serve(new_conn, data, size, out, sizeof out);

    size_t nwant = expected_statuses(data, size, want);
    size_t ngot = parse_replies(out, len, got);
    assert(ngot == nwant);
    for (size_t i = 0; i < ngot; i++)
        assert(got[i] == want[i]);
    return 0;
}
