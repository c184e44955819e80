/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "net.h"

static int head_complete(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < n && p[i + 1] == '\n')
            return 1;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return 1;
    }
    return 0;
}
ssize_t http_read_head(int fd, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap == 0)
        return -E2BIG;
    buf[0] = '\0';
    while (used + 1 < cap) {
        if (net_stop_requested())
            return -EINTR;
        ssize_t n = recv(fd, buf + used, cap - 1 - used, 0);
        if (n < 0 && errno == EINTR && !net_stop_requested())
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return (ssize_t)used; /* клиент закрыл соединение */
        used += (size_t)n;
        buf[used] = '\0';
        if (head_complete(buf, used))
            return (ssize_t)used;
    }
    return -E2BIG;
}
static int is_token(const char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                    (c >= 'A' && c <= 'Z');
        if (!alnum && strchr(extra, c) == NULL)
            return 0;
    }
    return n > 0;
}
static int first_line(const char *head, size_t len, const char **line,
                      size_t *line_len, const char **why)
{
    const char *nl = memchr(head, '\n', len);
    if (nl == NULL) {
        *why = len == 0 ? "empty request" : "request line is not terminated";
        return -1;
    }
    *line = head;
    *line_len = (size_t)(nl - head);
    if (*line_len > 0 && head[*line_len - 1] == '\r')
        (*line_len)--;
    if (*line_len == 0) {
        *why = "empty request line";
        return -1;
    }
    for (size_t i = 0; i < *line_len; i++)
        if ((unsigned char)head[i] < 0x20 || (unsigned char)head[i] > 0x7e) {
            *why = "request line contains control or non-ASCII bytes";
            return -1;
        }
    return 0;
}
static int split_fields(const char *line, size_t len, const char *field[3],
                        size_t field_len[3], const char **why)
{
    static const char *const count_error[] = {
        "expected METHOD TARGET HTTP-VERSION, got one word",
        "missing HTTP version (expected METHOD TARGET HTTP-VERSION)",
    };
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ' ')
            continue;
        if (i == start) {
            *why = "empty field (two spaces in a row?)";
            return -1;
        }
        if (k == 3) {
            *why = "too many spaces in request line";
            return -1;
        }
        field[k] = line + start;
        field_len[k++] = i - start;
        start = i + 1;
    }
    if (k < 3) {
        *why = count_error[k - 1];
        return -1;
    }
    return 0;
}
static int check_fields(const char *f[3], const size_t n[3], const char **why)
{
    if (!is_token(f[0], n[0]) || n[0] >= HTTP_METHOD_MAX)
        *why = "method is not a valid token";
    else if (f[1][0] != '/')
        *why = "request target must start with /";
    else if (n[1] >= HTTP_TARGET_MAX)
        *why = "request target is too long";
    else if (n[2] != 8 || memcmp(f[2], "HTTP/1.", 7) != 0 ||
             f[2][7] < '0' || f[2][7] > '9')
        *why = "unsupported protocol version (expected HTTP/1.x)";
    else
        return 0;
    return -1;
}

int http_parse_request_line(const char *head, size_t len,
                            struct http_request *req, const char **why)
{
    const char *line, *field[3];
    size_t line_len, field_len[3];
    memset(req, 0, sizeof *req);
    if (first_line(head, len, &line, &line_len, why) < 0 ||
        split_fields(line, line_len, field, field_len, why) < 0 ||
        check_fields(field, field_len, why) < 0)
        return -EINVAL;
    memcpy(req->method, field[0], field_len[0]);
    memcpy(req->target, field[1], field_len[1]);
    memcpy(req->version, field[2], field_len[2]);
    return 0;
}
const struct http_route *http_find_route(const struct http_route *routes,
                                         const char *target)
{
    size_t len = strcspn(target, "?");
    for (const struct http_route *r = routes; r->path != NULL; r++)
        if (strlen(r->path) == len && strncmp(r->path, target, len) == 0)
            return r;
    return NULL;
}
void http_route_request(const struct http_route *routes, const char *head,
                        size_t len, struct http_reply *reply)
{
    struct http_request req;
    const char *why = NULL;
    const struct http_route *route;
    reply->body = NULL;
    reply->detail = NULL;
    if (http_parse_request_line(head, len, &req, &why) < 0) {
        reply->status = 400;
        reply->detail = why;
    } else if (strcmp(req.method, "GET") != 0) {
        reply->status = 405;
    } else if ((route = http_find_route(routes, req.target)) == NULL) {
        reply->status = 404;
    } else {
        reply->status = 200;
        reply->body = route->view(&req);
    }
}
const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    default: return "Unknown";
    }
}

int http_format_head(char *buf, size_t cap, int status, size_t body_len,
                     int keep_alive)
{
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: %s\r\n"
                     "%s\r\n",
                     status, http_reason(status), body_len,
                     keep_alive ? "keep-alive" : "close",
                     status == 405 ? "Allow: GET\r\n" : "");
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
int http_error_body(char *buf, size_t cap, int status, const char *detail)
{
    const char *text = status == 404   ? "Not found"
                       : status == 405 ? "Method not allowed"
                       : status == 400 ? "Bad Request"
                                       : http_reason(status);
    int n = snprintf(buf, cap, "<h1>%d<p>%s%s%s</p></h1>", status, text,
                     detail ? ": " : "", detail ? detail : "");
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
int http_send_reply(int fd, const struct http_reply *reply)
{
    char head[256], error_page[512];
    const char *body = reply->body;
    if (body == NULL && http_error_body(error_page, sizeof error_page,
                                        reply->status, reply->detail) < 0)
        return -ENOSPC;
    if (body == NULL)
        body = error_page;
    size_t body_len = strlen(body);
    int head_len = http_format_head(head, sizeof head, reply->status, body_len, 0);
    char *all = head_len < 0 ? NULL : malloc((size_t)head_len + body_len);
    if (all == NULL)
        return head_len < 0 ? -ENOSPC : -ENOMEM;
    memcpy(all, head, (size_t)head_len);
    memcpy(all + head_len, body, body_len);
    int rc = net_send_all(fd, all, (size_t)head_len + body_len);
    free(all);
    return rc;
}
