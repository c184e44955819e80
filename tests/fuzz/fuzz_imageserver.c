/* Fuzz target: the request handling of chapter 11's image server
 * (chapter NN-images, imageserver.c), driven for real. The input is what one client
 * sends on one keep-alive connection, then EOF; the program's connection
 * coroutine (conn_body, via new_conn) serves it on one end of a socketpair,
 * on the book's event loop, with the artificial latency set to zero.
 *
 * Checked against a model of the server's promises, written here:
 *   - a request head is the shortest prefix of the unread input ending in
 *     "\r\n\r\n", without NUL, within the buffer (HTTP_HEAD_MAX - 1 bytes);
 *     none within a full buffer, or EOF first: the connection just closes;
 *   - a request line that is not HTTP: closed without a reply;
 *   - otherwise the route is parse_route(target): /W/H -> 302 to a
 *     /cache/… image, /cache/N_W_H.png -> 200 image/png, /cut/W/H -> 200 with
 *     half the body and then close, /hang… -> no reply until EOF, /stats ->
 *     200, anything else (/404/W/H too) -> 404;
 *   - the connection stays open iff the request is HTTP/1.1 and its own head
 *     (copied, so that the next pipelined request cannot sway it) does not
 *     ask for "Connection: close".
 * Every reply must be complete (Content-Length bytes of body) except the
 * cut one, a 302 must point at a path that parse_route takes for an image
 * of the same size, a PNG must start with the PNG signature, and the list
 * of statuses must be the model's. The route parser itself is checked on
 * every target too: sizes it accepts are within 1..MAX_SIDE.
 *
 * The program's file is included with its main renamed: the coroutine and
 * its helpers are static there. */
#define main imageserver_main
#include "images/imageserver.c"
#undef main

#include "conn_harness.h"

/* the pixel budget keeps the replies far below OUT_CAP */
enum { MAX_REPLIES = 8192, OUT_CAP = 1 << 23, PIXEL_BUDGET = 1 << 20 };

struct expect {
    int status;
    int cut;        /* the body stops halfway and the connection closes */
    int w, h;       /* for 302 and 200 image: the picture's size */
};

static int route_status(const struct route *r)
{
    switch (r->kind) {
    case R_REDIRECT: return 302;
    case R_IMAGE: case R_FAIL_CUT: case R_STATS: return 200;
    case R_FAIL_HANG: return 0;
    default: return 404;
    }
}

/* The model; -1 if the input asks for more pixels than we care to draw. */
static long expected(const uint8_t *data, size_t size, struct expect *want)
{
    enum { WINDOW = HTTP_HEAD_MAX - 1 };
    static char head[HTTP_HEAD_MAX];
    size_t pos = 0;
    long n = 0, pixels = 0;
    while (pos < size && n < MAX_REPLIES) {
        size_t avail = size - pos < WINDOW ? size - pos : WINDOW, end = 0;
        for (size_t i = 3; i < avail && end == 0; i++) {
            if (memchr(data + pos + i - 3, '\0', 4) != NULL)
                break;
            if (memcmp(data + pos + i - 3, "\r\n\r\n", 4) == 0)
                end = i + 1;
        }
        if (end == 0)
            return n;       /* too long, unfinished or a NUL: just closed */
        memcpy(head, data + pos, end);
        head[end] = '\0';
        struct http_request req;
        const char *why;
        if (http_parse_request_line(head, end, &req, &why) < 0)
            return n;       /* not HTTP: closed without a word */
        struct route r = parse_route(req.target);
        int st = route_status(&r);
        if (st == 0)
            return n;       /* /hang: nothing until EOF */
        if (r.kind == R_IMAGE || r.kind == R_FAIL_CUT)
            pixels += (long)r.w * r.h;
        if (pixels > PIXEL_BUDGET)
            return -1;
        want[n++] = (struct expect){st, r.kind == R_FAIL_CUT, r.w, r.h};
        if (r.kind == R_FAIL_CUT || strcmp(req.version, "HTTP/1.1") != 0
            || asks_close(head, end))
            return n;
        pos += end;
    }
    return n;
}

static void check_replies(const char *out, size_t len, const struct expect *want, long nwant)
{
    size_t pos = 0;
    long n = 0;
    static char target[HTTP_TARGET_MAX];
    while (pos < len) {
        assert(n < nwant);
        const char *p = out + pos;
        assert(len - pos > 12 && memcmp(p, "HTTP/1.1 ", 9) == 0);
        assert(atoi(p + 9) == want[n].status);
        const char *end = conn_find(p, len - pos, "\r\n\r\n");
        assert(end != NULL);
        size_t head = (size_t)(end + 4 - p);
        const char *cl = conn_find(p, head, "Content-Length: ");
        assert(cl != NULL);
        size_t body = strtoul(cl + 16, NULL, 10);
        if (want[n].status == 302) {
            const char *loc = conn_find(p, head, "Location: ");
            assert(loc != NULL);
            size_t l = strcspn(loc + 10, "\r");
            assert(l < sizeof target);
            memcpy(target, loc + 10, l);
            target[l] = '\0';
            struct route r = parse_route(target);
            assert(r.kind == R_IMAGE && r.w == want[n].w && r.h == want[n].h);
        }
        if (want[n].status == 200 && want[n].w > 0) {
            assert(conn_find(p, head, "Content-Type: image/png") != NULL);
            assert(body == png_size(want[n].w, want[n].h));
            assert(len - pos - head >= 8);
            assert(memcmp(p + head, "\x89PNG\r\n\x1a\n", 8) == 0);
        }
        if (want[n].cut) {
            assert(pos + head + body / 2 == len); /* half, then closed */
            n++;
            break;
        }
        pos += head + body;
        assert(pos <= len);
        n++;
    }
    assert(n == nwant);
}

static void setup(void)
{
    crc_init();
    cfg.latency = cfg.jitter = 0;   /* no artificial delay while fuzzing */
}

/* The route parser alone, on the input as a target (it writes into it). */
static void check_parse_route(const uint8_t *data, size_t size)
{
    static char target[HTTP_TARGET_MAX];
    size_t n = size < sizeof target - 1 ? size : sizeof target - 1;
    memcpy(target, data, n);
    target[n] = '\0';
    struct route r = parse_route(target);
    if (r.kind == R_IMAGE || r.kind == R_REDIRECT || r.kind == R_FAIL_CUT)
        assert(side_ok(r.w) && side_ok(r.h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static struct expect want[MAX_REPLIES];
    static char out[OUT_CAP];
    if (!ready) {
        setup();
        ready = 1;
    }
    check_parse_route(data, size);
    if (size > 65536)
        return 0;
    long nwant = expected(data, size, want);
    if (nwant < 0)
        return 0;

    size_t len = conn_serve(new_conn, data, size, out, sizeof out);
    assert(stats.conns == 0 && stats.active == 0);  /* counters balanced */

    check_replies(out, len, want, nwant);
    return 0;
}
