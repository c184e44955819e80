/* Fuzz target: the keep-alive connection of chapter 10's web app
 * (chapter NN-sockets, webapp.c), driven for real. The input is the byte
 * stream one client sends on one connection: possibly several pipelined
 * requests, then EOF. The program's own connection coroutine (via new_conn)
 * serves it on one end of a socketpair, on the chapter's event loop; the
 * other end collects the replies.
 *
 * The oracle is not the server's code (neither lib/http nor the program's
 * functions decide what is right):
 *   - for every input, the properties of conn_split (conn_harness.h): well
 *     formed replies, Content-Length honoured, only the last one closes;
 *     no more replies than blank lines in the input plus one; statuses
 *     from the book's list; an error other than 404/405 closes; a 200 is
 *     one of the two pages of chapter 1;
 *   - for inputs of the simple class (simple_model.h: GET/HEAD/POST with
 *     Host, maybe a Content-Length body holding anything, a request
 *     included, maybe Connection: close), the exact list of statuses, and
 *     the replies to HEAD carry no body.
 *
 * The program's file is included (with its main renamed) because the
 * coroutine is static there; the include path is build/src/lib, so the
 * #line directives point into book/10-sockets.nw. */
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
#include "simple_model.h"

/* 64 KiB of input never asks for more than OUT_CAP of replies */
enum { MAX_REPLIES = 16384, OUT_CAP = 1 << 23 };

static int allowed(int status)
{
    static const int list[] = {200, 400, 404, 405, 413, 414, 431, 501, 505};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (list[i] == status)
            return 1;
    return 0;
}

static int expected_status(const struct simple_req *r)
{
    if (strcmp(r->method, "POST") == 0)
        return 405;
    return strcmp(r->path, "/") == 0 || strcmp(r->path, "/blog") == 0 ? 200 : 404;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct conn_reply got[MAX_REPLIES];
    static struct simple_req want[MAX_REPLIES];
    static char out[OUT_CAP];
    if (size > 65536)
        return 0;
    size_t len = conn_serve(new_conn, data, size, out, sizeof out);

    size_t n = conn_split(out, len, got, MAX_REPLIES, 0);
    assert(n <= conn_blank_lines(data, size) + 1);
    for (size_t i = 0; i < n; i++) {
        assert(allowed(got[i].status));
        if (got[i].status != 200 && got[i].status != 404 && got[i].status != 405)
            assert(!got[i].keep);
        if (got[i].status == 200 && got[i].body_len > 0)
            assert(conn_find(got[i].head + got[i].head_len, got[i].body_len,
                             "<h1>Index page</h1>") != NULL ||
                   conn_find(got[i].head + got[i].head_len, got[i].body_len,
                             "<h1>Blog page</h1>") != NULL);
    }

    size_t nwant;
    if (simple_model(data, size, want, MAX_REPLIES, &nwant)) {
        assert(n == nwant);
        for (size_t i = 0; i < n; i++) {
            assert(got[i].status == expected_status(&want[i]));
            assert(got[i].keep == !want[i].close);
            if (strcmp(want[i].method, "HEAD") == 0)
                assert(got[i].body_len == 0);
        }
    }
    return 0;
}
