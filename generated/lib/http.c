/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw book/c-parsing.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "net.h"

enum {
    S_START, S_METHOD, S_TARGET, S_VERSION, S_LF,
    S_FIELD, S_NAME, S_OWS, S_VALUE, S_HEAD_DONE,
    S_BODY, S_CHUNK_SIZE, S_CHUNK_BWS, S_CHUNK_EXT, S_CHUNK_DATA, S_CHUNK_END,
    S_TRAILER, S_TRAILER_LINE, S_BODY_DONE, S_ERROR
};

static int fail(struct http_parser *p, int status, const char *why)
{
    p->state = S_ERROR;
    p->status = status;
    p->why = why;
    return HTTP_ERROR;
}

/* Символ токена (RFC 9110): буквы, цифры и !#$%&'*+-.^_`|~ */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* Конец строки: \n -- сразу в next, \r -- сначала дождаться \n. */
static void line_end(struct http_parser *p, unsigned char c, int next)
{
    p->state = c == '\r' ? S_LF : next;
    p->next = next;
    p->line = 0;
}

void http_parser_init(struct http_parser *p, struct http_request *req)
{
    memset(p, 0, sizeof *p);
    memset(req, 0, sizeof *req);
    p->req = req;
    p->state = S_START;
}
/* Следующий элемент списка s[*i..n): 1 и токен в s[*start..*start+*len),
   0 -- список кончился, -1 -- элемент не токен. */
static int next_token(const char *s, size_t n, size_t *i, size_t *start, size_t *len)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == ','))
        (*i)++;
    if (*i == n)
        return 0;
    *start = *i;
    while (*i < n && is_tchar((unsigned char)s[*i]))
        (*i)++;
    *len = *i - *start;
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
    return *len == 0 || (*i < n && s[*i] != ',') ? -1 : 1;
}

static int token_is(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

static void connection(struct http_parser *p, const char *v, size_t n)
{
    size_t i = 0, start, len;
    while (next_token(v, n, &i, &start, &len) == 1) {
        p->conn_close |= token_is(v + start, len, "close");
        p->conn_keep |= token_is(v + start, len, "keep-alive");
    }
}

static int transfer_encoding(struct http_parser *p, const char *v, size_t n)
{
    size_t i = 0, start, len;
    int rc;
    p->te = 1;
    while ((rc = next_token(v, n, &i, &start, &len)) == 1) {
        int chunked = token_is(v + start, len, "chunked");
        p->te_bad |= p->te_chunked;    /* что-то после chunked, хотя бы и chunked */
        p->te_chunked = chunked;
        p->te_other |= !chunked;
    }
    return rc < 0 ? fail(p, 400, "bad Transfer-Encoding") : 0;
}
/* Десятичное число s[0..n) без знака и пробелов; -1 -- не число,
   -2 -- больше max. */
static long parse_decimal(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned long d = (unsigned long)(s[i] - '0');
        if (v > (max - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int content_length(struct http_parser *p, const char *v, size_t n)
{
    if (p->lengths++ > 0)
        return fail(p, 400, "more than one Content-Length");
    long rc = parse_decimal(v, n, HTTP_BODY_MAX, &p->req->content_length);
    if (rc == -2)
        return fail(p, 413, "request body is too large");
    return rc < 0 ? fail(p, 400, "bad Content-Length") : 0;
}

static int field_done(struct http_parser *p, const char *buf)
{
    struct http_request *req = p->req;
    if (req->nfields == HTTP_FIELDS_MAX)
        return fail(p, 431, "too many header lines");
    struct http_field *f = &req->fields[req->nfields++];
    *f = (struct http_field){(unsigned short)p->mark, (unsigned short)(p->name_end - p->mark),
                             (unsigned short)p->value,
                             (unsigned short)(p->value_end - p->value)};
    const char *name = buf + f->name, *value = buf + f->value;
    if (f->name_len == 4 && strncasecmp(name, "Host", 4) == 0)
        p->hosts++;
    else if (f->name_len == 14 && strncasecmp(name, "Content-Length", 14) == 0)
        return content_length(p, value, f->value_len);
    else if (f->name_len == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0)
        return transfer_encoding(p, value, f->value_len);
    else if (f->name_len == 10 && strncasecmp(name, "Connection", 10) == 0)
        connection(p, value, f->value_len);
    return 0;
}
static int finish_head(struct http_parser *p)
{
    struct http_request *req = p->req;
    if (req->minor == 1 && p->hosts == 0)
        return fail(p, 400, "HTTP/1.1 request without Host");
    if (p->hosts > 1)
        return fail(p, 400, "more than one Host");
    if (p->te && p->lengths)
        return fail(p, 400, "both Transfer-Encoding and Content-Length");
    if (p->te && req->minor == 0)
        return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (p->te && (!p->te_chunked || p->te_bad))
        return fail(p, 400, "chunked must be the final transfer coding, once");
    if (p->te && p->te_other)
        return fail(p, 501, "transfer coding not implemented");
    req->framing = p->te ? HTTP_CHUNKED : p->lengths ? HTTP_LENGTH : HTTP_NO_BODY;
    req->keep_alive = req->minor == 1 ? !p->conn_close : p->conn_keep && !p->conn_close;
    p->left = req->content_length;
    p->state = req->framing == HTTP_CHUNKED ? S_CHUNK_SIZE
               : p->left > 0 ? S_BODY : S_BODY_DONE;
    return HTTP_DONE;
}
static int set_target(struct http_request *req, const char *t, size_t n)
{
    size_t skip = 0;
    if (n >= 7 && strncasecmp(t, "http://", 7) == 0)
        skip = 7;
    else if (n >= 8 && strncasecmp(t, "https://", 8) == 0)
        skip = 8;
    else if (n == 0 || t[0] != '/')
        return -1;
    if (skip > 0) {                 /* абсолютная форма: отрезать схему и адрес */
        while (skip < n && t[skip] != '/' && t[skip] != '?')
            skip++;
        if (skip == n || t[skip] == '?')
            req->target[0] = '/';   /* http://host?x -- это "/?x" */
    }
    memcpy(req->target + strlen(req->target), t + skip, n - skip);
    return 0;
}

static int set_version(struct http_request *req, const char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
        v[6] != '.' || v[7] < '0' || v[7] > '9')
        return 400;
    if (v[5] != '1')
        return 505;
    req->minor = v[7] > '0';
    return 0;
}

static int head_byte(struct http_parser *p, const char *buf, unsigned char c)
{
    struct http_request *req = p->req;
    size_t n = p->pos - p->mark;   /* длина текущего слова или строки */
    switch (p->state) {
    case S_START:
        if (c == '\r' || c == '\n')
            return HTTP_MORE;      /* пустые строки перед запросом */
        if (!is_tchar(c))
            return fail(p, 400, "not an HTTP request line");
        p->mark = p->pos;
        p->state = S_METHOD;
        return HTTP_MORE;
    case S_METHOD:
        if (c == ' ') {
            memcpy(req->method, buf + p->mark, n);
            p->mark = p->pos + 1;
            p->state = S_TARGET;
        } else if (c == '\r' || c == '\n') {
            return fail(p, 400, "expected METHOD TARGET HTTP-VERSION, got one word");
        } else if (!is_tchar(c)) {
            return fail(p, 400, "method is not a token");
        } else if (n + 1 >= HTTP_METHOD_MAX) {
            return fail(p, 501, "method is too long");
        }
        return HTTP_MORE;
    case S_TARGET:
        if (c == ' ') {
            if (set_target(req, buf + p->mark, n) < 0)
                return fail(p, 400, n == 0 ? "empty field (two spaces in a row?)"
                                           : "request target must be /path or http://host/path");
            p->mark = p->pos + 1;
            p->state = S_VERSION;
        } else if (c == '\r' || c == '\n') {
            return fail(p, 400, "missing HTTP version (expected METHOD TARGET HTTP-VERSION)");
        } else if (c < 0x21 || c > 0x7e) {
            return fail(p, 400, "request target contains control or non-ASCII bytes");
        } else if (n + 1 >= HTTP_TARGET_MAX) {
            return fail(p, 414, "request target is too long");
        }
        return HTTP_MORE;
    case S_VERSION:
        if (c == '\r' || c == '\n') {
            int status = set_version(req, buf + p->mark, n);
            if (status != 0)
                return fail(p, status, status == 505 ? "this server speaks HTTP/1.x only"
                                                     : "bad HTTP version (expected HTTP/1.x)");
            line_end(p, c, S_FIELD);
        } else if (n >= 8) {
            return fail(p, 400, "bad HTTP version (expected HTTP/1.x)");
        }
        return HTTP_MORE;
    case S_LF:
        if (c != '\n')
            return fail(p, 400, "CR not followed by LF");
        p->state = p->next;
        return p->state == S_HEAD_DONE ? HTTP_DONE : HTTP_MORE;
    case S_FIELD:
        if (c == '\r' || c == '\n') {
            line_end(p, c, S_HEAD_DONE);
            return p->state == S_HEAD_DONE ? HTTP_DONE : HTTP_MORE;
        }
        if (c == ' ' || c == '\t')
            return fail(p, 400, "obsolete line folding");
        if (!is_tchar(c))
            return fail(p, 400, "header name is not a token");
        p->mark = p->pos;
        p->state = S_NAME;
        return HTTP_MORE;
    case S_NAME:
        if (c == ':') {
            p->name_end = p->pos;
            p->value = p->value_end = p->pos + 1;
            p->state = S_OWS;
        } else if (!is_tchar(c)) {
            return fail(p, 400, c == ' ' || c == '\t' ? "whitespace before colon"
                                                      : "header name is not a token");
        }
        return HTTP_MORE;
    case S_OWS:
    case S_VALUE:
        if (c == '\r' || c == '\n') {
            if (field_done(p, buf) < 0)
                return HTTP_ERROR;
            line_end(p, c, S_FIELD);
        } else if (c == ' ' || c == '\t') {
            if (p->state == S_OWS)
                p->value = p->value_end = p->pos + 1;
        } else if (c < 0x20 || c == 0x7f) {
            return fail(p, 400, "control byte in a header value");
        } else {
            p->state = S_VALUE;
            p->value_end = p->pos + 1;  /* пробелы в конце не войдут */
        }
        return HTTP_MORE;
    }
    return fail(p, 500, "parser in a wrong state");
}
int http_parse_head(struct http_parser *p, const char *buf, size_t len)
{
    while (p->state < S_HEAD_DONE && p->pos < len) {
        if (p->pos + 1 >= HTTP_HEAD_MAX)
            return fail(p, p->state == S_TARGET ? 414 : 431, "request head is too large");
        if (p->state >= S_NAME && p->pos - p->mark + 1 >= HTTP_LINE_MAX)
            return fail(p, 431, "header line is too long");
        int rc = head_byte(p, buf, (unsigned char)buf[p->pos]);
        p->pos++;
        if (rc == HTTP_DONE)
            return finish_head(p);
    }
    if (p->state == S_ERROR)
        return HTTP_ERROR;
    return p->state > S_HEAD_DONE ? HTTP_DONE : HTTP_MORE;
}

size_t http_head_length(const struct http_parser *p)
{
    return p->pos;
}
static int hex_digit(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int chunk_byte(struct http_parser *p, unsigned char c)
{
    int d = hex_digit(c);
    switch (p->state) {
    case S_CHUNK_SIZE:
        if (d >= 0) {
            if (p->body + (unsigned long)d > HTTP_BODY_MAX ||
                p->left > (HTTP_BODY_MAX - p->body - (unsigned long)d) / 16)
                return fail(p, 413, "request body is too large");
            p->left = p->left * 16 + (unsigned long)d;
            p->digits++;
        } else if (p->digits == 0) {
            return fail(p, 400, "bad chunk size");
        } else if (c == ';') {
            p->state = S_CHUNK_EXT;
        } else if (c == ' ' || c == '\t') {
            p->state = S_CHUNK_BWS;
        } else if (c == '\r' || c == '\n') {
            p->body += p->left;
            line_end(p, c, p->left > 0 ? S_CHUNK_DATA : S_TRAILER);
        } else {
            return fail(p, 400, "bad chunk size");
        }
        return 0;
    case S_CHUNK_BWS:              /* пробелы после размера: дальше только ; */
        if (c == ';')
            p->state = S_CHUNK_EXT;
        else if (c != ' ' && c != '\t')
            return fail(p, 400, "bad chunk size");
        return 0;
    case S_CHUNK_EXT:
    case S_TRAILER_LINE:
        if (c == '\r' || c == '\n') {
            if (p->state == S_CHUNK_EXT)
                p->body += p->left;
            line_end(p, c, p->state == S_TRAILER_LINE ? S_TRAILER
                           : p->left > 0 ? S_CHUNK_DATA : S_TRAILER);
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return fail(p, 400, "control byte in a chunk line");
        }
        return 0;
    case S_CHUNK_END:
        if (c != '\r' && c != '\n')
            return fail(p, 400, "chunk data longer than its size");
        p->digits = 0;
        line_end(p, c, S_CHUNK_SIZE);
        return 0;
    case S_TRAILER:
        if (c == '\r' || c == '\n')
            line_end(p, c, S_BODY_DONE);
        else
            p->state = S_TRAILER_LINE;
        return 0;
    case S_LF:
        if (c != '\n')
            return fail(p, 400, "CR not followed by LF");
        p->state = p->next;
        return 0;
    }
    return fail(p, 500, "parser in a wrong state");
}
long http_skip_body(struct http_parser *p, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && p->state != S_BODY_DONE && p->state != S_ERROR) {
        if (p->state == S_BODY || p->state == S_CHUNK_DATA) {
            size_t n = len - i < p->left ? len - i : p->left;
            i += n;
            p->left -= n;
            if (p->left == 0)
                p->state = p->state == S_BODY ? S_BODY_DONE : S_CHUNK_END;
            continue;
        }
        if (++p->line >= HTTP_LINE_MAX)
            return fail(p, 431, "chunk line is too long");
        if (chunk_byte(p, (unsigned char)data[i++]) < 0)
            return HTTP_ERROR;
    }
    return p->state == S_ERROR ? HTTP_ERROR : (long)i;
}

int http_body_done(const struct http_parser *p)
{
    return p->state == S_BODY_DONE;
}
const char *http_header(const struct http_request *req, const char *head,
                        const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (int i = 0; i < req->nfields; i++) {
        const struct http_field *f = &req->fields[i];
        if (f->name_len == n && strncasecmp(head + f->name, name, n) == 0) {
            *len = f->value_len;
            return head + f->value;
        }
    }
    return NULL;
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
void http_route(const struct http_route *routes,
                const struct http_request *req, struct http_reply *reply)
{
    const struct http_route *route;
    int head = strcmp(req->method, "HEAD") == 0;
    *reply = (struct http_reply){.head_only = head};
    if (strcmp(req->method, "GET") != 0 && !head) {
        reply->status = 405;
    } else if ((route = http_find_route(routes, req->target)) == NULL) {
        reply->status = 404;
    } else {
        reply->status = 200;
        reply->body = route->view(req);
    }
}

void http_error_reply(const struct http_parser *p, struct http_reply *reply)
{
    *reply = (struct http_reply){p->status, NULL, p->why, 0};
}
const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
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
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
int http_error_body(char *buf, size_t cap, int status, const char *detail)
{
    const char *text = status == 404   ? "Not found"
                       : status == 405 ? "Method not allowed"
                                       : http_reason(status);
    int n = snprintf(buf, cap,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                     "  <meta charset=\"utf-8\">\n  <title>%d %s</title>\n"
                     "</head>\n<body>\n  <h1>%d</h1>\n  <p>%s%s%s</p>\n</body>\n</html>\n",
                     status, http_reason(status), status, text,
                     detail ? ": " : "", detail ? detail : "");
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
int http_format_reply(char *out, size_t cap, const struct http_reply *reply,
                      int keep_alive)
{
    char error_page[1024];
    const char *body = reply->body;
    if (body == NULL && http_error_body(error_page, sizeof error_page,
                                        reply->status, reply->detail) < 0)
        return -ENOSPC;
    if (body == NULL)
        body = error_page;
    size_t body_len = strlen(body), sent = reply->head_only ? 0 : body_len;
    int n = http_format_head(out, cap, reply->status, body_len, keep_alive);
    if (n < 0 || (size_t)n + sent >= cap)
        return -ENOSPC;
    memcpy(out + n, body, sent);
    return n + (int)sent;
}
int http_send_reply(int fd, const struct http_reply *reply)
{
    enum { REPLY_MAX = 16384 };
    char *out = malloc(REPLY_MAX);
    if (out == NULL)
        return -ENOMEM;
    int n = http_format_reply(out, REPLY_MAX, reply, 0);
    int rc = n < 0 ? n : net_send_all(fd, out, (size_t)n);
    free(out);
    return rc;
}
