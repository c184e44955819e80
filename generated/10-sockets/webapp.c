/* Этот файл извлечён (tangle) из книги: book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "http.h"
#include "net.h"
#include "../01-web-app/views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static double idle_timeout = 5.0;     /* секунд на весь заголовок запроса */

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--idle-timeout") == 0 && i + 1 < argc) {
            char *end;
            idle_timeout = strtod(argv[++i], &end);
            if (*end != '\0' || !(idle_timeout > 0)) {
                fprintf(stderr, "--idle-timeout: expected seconds > 0\n");
                return -1;
            }
        }
    return 0;
}
/* Длина заголовка запроса вместе с пустой строкой, 0 -- ещё не весь. */
static size_t head_length(const char *buf)
{
    const char *crlf = strstr(buf, "\r\n\r\n"), *lf = strstr(buf, "\n\n");
    if (crlf != NULL && (lf == NULL || crlf < lf))
        return (size_t)(crlf - buf) + 4;
    return lf != NULL ? (size_t)(lf - buf) + 2 : 0;
}
/* HTTP/1.1: да, если клиент не сказал "Connection: close";
   HTTP/1.0: только если сказал "Connection: keep-alive". */
static int wants_keep_alive(const char *head, size_t len)
{
    struct http_request req;
    const char *why;
    if (http_parse_request_line(head, len, &req, &why) < 0
        || strcmp(req.method, "GET") != 0)
        return 0;
    int http11 = strcmp(req.version, "HTTP/1.1") == 0;
    for (const char *line = strchr(head, '\n'); line != NULL && line + 1 < head + len;
         line = strchr(line + 1, '\n')) {
        if (strncasecmp(line + 1, "Connection:", 11) != 0)
            continue;
        const char *v = line + 12;
        while (*v == ' ')
            v++;
        if (strncasecmp(v, "close", 5) == 0)
            return 0;
        if (strncasecmp(v, "keep-alive", 10) == 0)
            return 1;
    }
    return http11;
}
enum { OUT_MAX = 16384 };

/* Ответ целиком в out: строка статуса, заголовки, тело. Длина или -1. */
static int format_reply(char *out, const struct http_reply *reply, int keep)
{
    char error_page[512];
    const char *body = reply->body;
    if (body == NULL) {
        http_error_body(error_page, sizeof error_page, reply->status, reply->detail);
        body = error_page;
    }
    size_t body_len = strlen(body);
    int n = http_format_head(out, OUT_MAX, reply->status, body_len, keep);
    if (n < 0 || (size_t)n + body_len >= OUT_MAX)
        return -1;
    memcpy(out + n, body, body_len + 1);
    return n + (int)body_len;
}
/* recv, но не позже deadline (по часам цикла, aio_time): ждём столько,
   сколько до срока осталось, потом -- AIO_ETIMEDOUT. */
static aio_future *recv_before(aio_loop *loop, int fd, char *buf, size_t cap,
                               double deadline)
{
    aio_future *inner = aio_sock_recv(loop, fd, buf, cap);
    if (inner == NULL)
        return NULL;
    aio_future *w = aio_wait_for(loop, inner, deadline - aio_time(loop));
    aio_future_unref(inner);
    return w;
}
struct conn {
    aio_loop *loop;
    int fd;
    int keep;
    int too_long;          /* буфер полон, а пустой строки нет */
    size_t len, head;      /* байтов в buf; длина первого заголовка */
    double deadline;       /* к этому моменту заголовок должен прийти целиком */
    gen_value r;
    gen_error err;
    char buf[HTTP_HEAD_MAX];
    char out[OUT_MAX];
};

static int conn_body(gen *g)
{
    struct conn *f = gen_locals(g);
    GEN_BEGIN(g);
    do {
        f->too_long = 0;
        f->deadline = aio_time(f->loop) + idle_timeout;
        while ((f->head = head_length(f->buf)) == 0) {
            if (f->len == sizeof f->buf - 1) {
                f->head = f->len;          /* слишком длинный: ответим 400 */
                f->too_long = 1;
                break;
            }
            if (aio_time(f->loop) >= f->deadline)
                GEN_RETURN(g, gen_none()); /* срок вышел, а заголовка всё нет */
            AIO_AWAIT_NEW_CATCH(g, f->r, f->err, recv_before(f->loop, f->fd, f->buf + f->len, sizeof f->buf - 1 - f->len, f->deadline));
            if (f->err.code != 0 || f->r.i == 0)
                GEN_RETURN(g, gen_none()); /* срок, отмена, ошибка или EOF */
            f->len += (size_t)f->r.i;
            f->buf[f->len] = '\0';
        }
        {
            struct http_reply reply;
            http_route_request(webapp_routes, f->buf, f->head, &reply);
            if (f->too_long)
                reply = (struct http_reply){400, NULL, "request head too large"};
            f->keep = reply.status != 400 && wants_keep_alive(f->buf, f->head);
            int n = format_reply(f->out, &reply, f->keep);
            if (n < 0)
                GEN_RAISE(g, -ENOSPC, "reply does not fit in %d bytes", OUT_MAX);
            f->r = gen_int(n);
        }
        memmove(f->buf, f->buf + f->head, f->len - f->head + 1);
        f->len -= f->head;
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sock_sendall(f->loop, f->fd, f->out, (size_t)f->r.i));
        if (f->err.code != 0)
            GEN_RETURN(g, gen_none());
    } while (f->keep);
    GEN_FINALLY(g);
    close(f->fd);
    GEN_END(g);
}
static gen *new_conn(int fd, void *arg)
{
    char name[NET_PEER_NAME_MAX];
    printf("Connection from: %s\n", net_peer_name(fd, name, sizeof name));
    return gen_new(conn_body, &(struct conn){.loop = arg, .fd = fd}, sizeof(struct conn));
}
struct webapp {
    aio_loop *loop;
    int port;
    aio_server *srv;
    gen_value r;
};

static int webapp_body(gen *g)
{
    struct webapp *f = gen_locals(g);
    int rc;
    GEN_BEGIN(g);
    rc = aio_start_server(f->loop, "127.0.0.1", f->port, new_conn, f->loop, &f->srv);
    if (rc < 0)
        GEN_RAISE(g, rc, "cannot listen on 127.0.0.1:%d: %s", f->port, strerror(-rc));
    printf("Serving on http://127.0.0.1:%d/ (Ctrl+C to stop)\n", f->port);
    AIO_AWAIT_NEW(g, f->r, aio_future_new(f->loop));
    GEN_FINALLY(g);
    aio_server_close(f->srv);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int port = net_port_from_args(argc, argv, 5000);
    if (port < 0 || parse_args(argc, argv) < 0)
        return 2;
    net_raise_open_files_limit();
    aio_loop *loop;
    int rc = aio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return 1;
    }
    gen_result r;
    rc = aio_run(loop, gen_new(webapp_body, &(struct webapp){.loop = loop, .port = port},
                               sizeof(struct webapp)), &r);
    aio_loop_free(loop);
    if (rc != 0 && rc != AIO_ECANCELLED) {
        fprintf(stderr, "webapp: %s\n", r.error.msg);
        return 1;
    }
    printf("Stopped.\n");
    return 0;
}
