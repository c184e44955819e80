/* Этот файл извлечён (tangle) из книги: book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "http.h"
#include "net.h"
#include "../01-web-app/views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double idle_timeout = 5.0;     /* секунд на запрос: заголовок и тело */
static double send_timeout = 10.0;    /* секунд на отправку ответа */
/* fut, но не позже deadline (по часам цикла, aio_time): потом fut
   отменяется, а ошибка -- AIO_ETIMEDOUT. Ссылку на fut забирает. */
static aio_future *by_deadline(aio_loop *loop, aio_future *fut, double deadline)
{
    if (fut == NULL)
        return NULL;
    aio_future *w = aio_wait_for(loop, fut, deadline - aio_time(loop));
    aio_future_unref(fut);
    return w;
}
enum { OUT_MAX = 16384 };

struct conn {
    aio_loop *loop;
    int fd;
    int keep;              /* соединение переживёт этот ответ */
    int out_len;           /* длина готового ответа в out */
    size_t len;            /* байтов в buf */
    double deadline;       /* к этому моменту запрос должен прийти целиком */
    struct http_parser parser;
    struct http_request req;
    gen_value r;
    gen_error err;
    char buf[HTTP_HEAD_MAX];
    char out[OUT_MAX];
};

/* Убрать из начала buf n байтов, уже разобранных. */
static void consume(struct conn *f, size_t n)
{
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= n;
}
static int prepare_reply(struct conn *f)
{
    struct http_reply reply;
    if (f->parser.status != 0) {
        http_error_reply(&f->parser, &reply);
        f->keep = 0;
    } else {
        http_route(webapp_routes, &f->req, &reply);
        f->keep = f->req.keep_alive;
    }
    return http_format_reply(f->out, sizeof f->out, &reply, f->keep);
}

static int conn_body(gen *g)
{
    struct conn *f = gen_locals(g);
    GEN_BEGIN(g);
    do {
        f->deadline = aio_time(f->loop) + idle_timeout;
        http_parser_init(&f->parser, &f->req);
        while (http_parse_head(&f->parser, f->buf, f->len) == HTTP_MORE) {
            AIO_AWAIT_NEW_CATCH(g, f->r, f->err, by_deadline(f->loop, aio_sock_recv(f->loop, f->fd, f->buf + f->len, sizeof f->buf - f->len), f->deadline));
            if (f->err.code != 0 || f->r.i == 0)
                GEN_RETURN(g, gen_none()); /* срок, отмена, ошибка или EOF */
            f->len += (size_t)f->r.i;
        }
        if (f->parser.status == 0)
            consume(f, http_head_length(&f->parser));
        while (f->parser.status == 0 && !http_body_done(&f->parser)) {
            long used = http_skip_body(&f->parser, f->buf, f->len);
            if (used < 0)
                break;                      /* ошибка в теле: ответим о ней */
            consume(f, (size_t)used);
            if (http_body_done(&f->parser))
                break;
            AIO_AWAIT_NEW_CATCH(g, f->r, f->err, by_deadline(f->loop, aio_sock_recv(f->loop, f->fd, f->buf, sizeof f->buf), f->deadline));
            if (f->err.code != 0 || f->r.i == 0)
                GEN_RETURN(g, gen_none());
            f->len = (size_t)f->r.i;
        }
        TRACE(begin(g->lane, "route"));
        f->out_len = prepare_reply(f);
        TRACE(end(g->lane));
        if (f->out_len < 0)
            GEN_RAISE(g, -ENOSPC, "reply does not fit in %d bytes", OUT_MAX);
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, by_deadline(f->loop, aio_sock_sendall(f->loop, f->fd, f->out, (size_t)f->out_len), aio_time(f->loop) + send_timeout));
        if (f->err.code != 0)
            GEN_RETURN(g, gen_none());         /* срок вышел или клиент ушёл */
    } while (f->keep);
    GEN_FINALLY(g);
    aio_close(f->loop, f->fd);
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
    net_say_listening("http", f->port, NULL);
    AIO_AWAIT_NEW(g, f->r, aio_future_new(f->loop));
    GEN_FINALLY(g);
    aio_server_close(f->srv);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    int port = 5000, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5000)"},
        {.name = "idle-timeout", .kind = NET_OPT_SECONDS, .value = &idle_timeout,
         .arg = "S", .help = "seconds a client may take over a request (default 5)"},
        {.name = "send-timeout", .kind = NET_OPT_SECONDS, .value = &send_timeout,
         .arg = "S", .help = "seconds a client may take to read a reply (default 10)"},
        TRACE_OPTION,
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N] [--idle-timeout S] [--send-timeout S]",
                       opts, 0, &status) < 0)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
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
    net_say_stopped();
    return 0;
}
