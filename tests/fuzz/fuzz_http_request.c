/* Fuzz target: the HTTP request head of chapter 1 (lib/http): parsing the
 * request line, routing it and building the reply. Whatever the bytes, the
 * parser must not read or write out of bounds, must say why it refused, and
 * the reply must be one of the statuses the book promises. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

static const char *page(const struct http_request *req)
{
    (void)req;
    return "<h1>page</h1>";
}

static const struct http_route routes[] = {
    {"/", page}, {"/blog", page}, {NULL, NULL}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request req;
    const char *why = NULL;
    const char *head = (const char *)data;

    if (http_parse_request_line(head, size, &req, &why) == 0) {
        assert(memchr(req.method, '\0', sizeof req.method));
        assert(memchr(req.target, '\0', sizeof req.target));
        assert(memchr(req.version, '\0', sizeof req.version));
        assert(req.method[0] && req.target[0] && req.version[0]);
    } else {
        assert(why && why[0]);
    }

    struct http_reply reply;
    http_route_request(routes, head, size, &reply);
    assert(reply.status == 200 || reply.status == 400 ||
           reply.status == 404 || reply.status == 405);
    if (reply.status == 200)
        assert(reply.body);

    char buf[1024];
    int n = http_error_body(buf, sizeof buf, reply.status, reply.detail);
    assert(n < 0 || (size_t)n < sizeof buf);
    n = http_format_head(buf, sizeof buf, reply.status, size, (int)(size & 1));
    assert(n < 0 || (size_t)n < sizeof buf);
    return 0;
}
