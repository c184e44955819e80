/* Fuzz target: the request handling of chapter 11's image server
 * (chapter NN-images, imageserver.c), driven for real. The input is what one
 * client sends on one keep-alive connection, then EOF; the program's
 * connection coroutine (via new_conn) serves it on one end of a socketpair,
 * on the book's event loop, with the artificial latency set to zero.
 *
 * The oracle is not the server's code (neither lib/http nor parse_route
 * decide what is right):
 *   - for every input, the properties of conn_split (conn_harness.h), a
 *     reply cut short allowed only as the last one; no more replies than
 *     blank lines plus one; statuses from the list; errors other than 404
 *     and 405 close; a 302 points at /cache/N_W_H.png read back here with
 *     sscanf; a PNG starts with the PNG signature and its Content-Length is
 *     the size of an uncompressed PNG of that many pixels, computed here;
 *   - for inputs of the simple class (simple_model.h), the exact statuses:
 *     /W/H with sides 1..1024 -> 302, /stats and /stats/reset -> 200,
 *     a path of letters only -> 404, POST -> 405;
 *   - the server's own counters are back to zero after every input.
 *
 * The program's file is included with its main renamed: the coroutine and
 * its helpers are static there. */
#define main imageserver_main
#include "images/imageserver.c"
#undef main

#include "conn_harness.h"
#include "simple_model.h"

enum { MAX_REPLIES = 8192, OUT_CAP = 1 << 23, MAX_PICTURES = 2 };

static int allowed(int status)
{
    static const int list[] = {200, 302, 400, 404, 405, 413, 414, 431, 501, 505};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (list[i] == status)
            return 1;
    return 0;
}

/* PNG of w x h, RGB, no compression: signature, IHDR, one IDAT of stored
   deflate blocks (65535 bytes at most each), IEND. */
static size_t png_bytes(unsigned long w, unsigned long h)
{
    unsigned long raw = h * (1 + 3 * w);              /* a filter byte per row */
    unsigned long blocks = raw / 65535 + (raw % 65535 != 0) + (raw == 0);
    unsigned long zlib = 2 + raw + 5 * blocks + 4;
    return 8 + (12 + 13) + (12 + zlib) + 12;
}

/* The exact status for a request of the simple class; 0 if the path is
   outside what this model knows. */
static int expected_status(const struct simple_req *r)
{
    if (strcmp(r->method, "POST") == 0)
        return 405;
    if (strcmp(r->path, "/stats") == 0 || strcmp(r->path, "/stats/reset") == 0)
        return 200;
    unsigned w, h;
    char tail;
    size_t len = strlen(r->path);
    if (len <= 10 && strspn(r->path, "/0123456789") == len &&
        sscanf(r->path, "/%4u/%4u%c", &w, &h, &tail) == 2 && r->path[1] != '0') {
        char back[16];
        snprintf(back, sizeof back, "/%u/%u", w, h);
        if (strcmp(back, r->path) == 0)
            return w >= 1 && w <= 1024 && h >= 1 && h <= 1024 ? 302 : 404;
        return 0;
    }
    if (strspn(r->path + 1, "abcdefghijklmnopqrstuvwxyz") == len - 1 &&
        strncmp(r->path, "/hang", 5) != 0 && strncmp(r->path, "/stats", 6) != 0)
        return 404;
    return 0;
}

static void check_reply(const struct conn_reply *c)
{
    const char *body = c->head + c->head_len;
    assert(allowed(c->status));
    if (c->status != 200 && c->status != 302 && c->status != 404 && c->status != 405)
        assert(!c->keep);
    if (c->status == 302) {
        const char *loc = conn_find(c->head, c->head_len, "\r\nLocation: /cache/");
        unsigned long serial;
        unsigned w, h;
        int end = 0;
        assert(loc != NULL);
        assert(sscanf(loc + 19, "%lu_%u_%u.png\r%n", &serial, &w, &h, &end) == 3 && end > 0);
        assert(w >= 1 && w <= 1024 && h >= 1 && h <= 1024);
    }
    if (conn_find(c->head, c->head_len, "\r\nContent-Type: image/png\r\n") != NULL) {
        assert(c->status == 200);
        if (c->body_len >= 24) {
            assert(memcmp(body, "\x89PNG\r\n\x1a\n", 8) == 0);
            const unsigned char *ihdr = (const unsigned char *)body + 16;
            unsigned long w = (unsigned long)ihdr[0] << 24 | (unsigned long)ihdr[1] << 16 |
                              (unsigned long)ihdr[2] << 8 | ihdr[3];
            unsigned long h = (unsigned long)ihdr[4] << 24 | (unsigned long)ihdr[5] << 16 |
                              (unsigned long)ihdr[6] << 8 | ihdr[7];
            assert(c->length == png_bytes(w, h));
        }
    }
}

/* How many pictures the input could make the server draw (each up to
   3 MB): every /cache/ and /cut/ counts. */
static size_t pictures(const uint8_t *data, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += (size - i >= 7 && memcmp(data + i, "/cache/", 7) == 0) ||
             (size - i >= 5 && memcmp(data + i, "/cut/", 5) == 0);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static struct conn_reply got[MAX_REPLIES];
    static struct simple_req want[MAX_REPLIES];
    static char out[OUT_CAP];
    if (!ready) {
        crc_init();
        cfg.latency = cfg.jitter = 0;   /* no artificial delay while fuzzing */
        ready = 1;
    }
    if (size > 65536 || pictures(data, size) > MAX_PICTURES)
        return 0;

    size_t len = conn_serve(new_conn, data, size, out, sizeof out);
    assert(stats.conns == 0 && stats.active == 0);  /* counters balanced */

    size_t n = conn_split(out, len, got, MAX_REPLIES, 1);
    assert(n <= conn_blank_lines(data, size) + 1);
    for (size_t i = 0; i < n; i++)
        check_reply(&got[i]);

    size_t nwant, known = 1;
    if (simple_model(data, size, want, MAX_REPLIES, &nwant)) {
        for (size_t i = 0; i < nwant; i++)
            known &= expected_status(&want[i]) != 0;
        if (known) {
            assert(n == nwant);
            for (size_t i = 0; i < n; i++) {
                assert(got[i].status == expected_status(&want[i]));
                assert(got[i].keep == !want[i].close);
                if (strcmp(want[i].method, "HEAD") == 0)
                    assert(got[i].body_len == 0);
            }
        }
    }
    return 0;
}
