/* Fuzz target: the request parser of chapter 1 (lib/http). The input is
 * fed twice: whole, and in pieces whose sizes come from the input itself;
 * the verdict, the error status and the parsed request must be the same
 * (the parser resumes where it stopped). Whatever the bytes, it must not
 * read or write out of bounds; an error has a status and a reason; a
 * parsed request has NUL-terminated fields, an origin-form target and a
 * head within the limit; the body skipper never claims more bytes than it
 * got; and the reply to whatever came is one the book promises. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

static const char *page(const struct http_request *req)
{
    (void)req;
    return "<h1>page</h1>";
}

static const struct http_route routes[] = {{"/", page}, {"/blog", page}, {NULL, NULL}};

static int feed(const uint8_t *data, size_t size, size_t step, struct http_parser *p,
                struct http_request *req)
{
    int rc = HTTP_MORE;
    http_parser_init(p, req);
    for (size_t have = 0; rc == HTTP_MORE && have < size;) {
        have = step == 0 || size - have < step ? size : have + step;
        rc = http_parse_head(p, (const char *)data, have);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_parser p, q;
    static struct http_request req, req2;
    int rc = feed(data, size, 0, &p, &req);
    int rc2 = feed(data, size, size > 0 ? data[0] % 7 + 1 : 1, &q, &req2);
    assert(rc == rc2);
    if (rc == HTTP_ERROR) {
        assert(p.status == q.status && p.status >= 400 && p.status < 600);
        assert(p.why && p.why[0]);
    }
    if (rc == HTTP_DONE) {
        assert(memcmp(&req, &req2, sizeof req) == 0);
        assert(memchr(req.method, '\0', sizeof req.method));
        assert(memchr(req.target, '\0', sizeof req.target));
        assert(req.method[0] && req.target[0] == '/');
        size_t head = http_head_length(&p);
        assert(head > 0 && head < HTTP_HEAD_MAX && head <= size);
        long used = http_skip_body(&p, (const char *)data + head, size - head);
        assert(used == HTTP_ERROR || (used >= 0 && (size_t)used <= size - head));
    }
    struct http_reply reply;
    if (rc == HTTP_DONE)
        http_route(routes, &req, &reply);
    else
        reply = (struct http_reply){p.status ? p.status : 400, NULL, p.why, 0};
    char buf[4096];
    int n = http_format_reply(buf, sizeof buf, &reply, (int)(size & 1));
    assert(n > 0 && (size_t)n < sizeof buf);
    return 0;
}
