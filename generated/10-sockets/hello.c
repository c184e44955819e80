/* Этот файл извлечён (tangle) из книги: book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "net.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char reply[] = "Hello world!\n";
static char discard[4096];      /* общий: прочитанное никому не нужно */

struct client {
    aio_loop *loop;
    int fd;
    gen_value r;
    gen_error err;
};

static int client_body(gen *g)
{
    struct client *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sock_recv(f->loop, f->fd, discard, sizeof discard));
        if (f->err.code != 0 || f->r.i == 0)
            break;                     /* ошибка, отмена или клиент ушёл */
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sock_sendall(f->loop, f->fd, reply, sizeof reply - 1));
        if (f->err.code != 0)
            break;
    }
    if (f->err.code != 0 && f->err.code != AIO_ECANCELLED)
        fprintf(stderr, "client fd %d: %s\n", f->fd, f->err.msg);
    GEN_FINALLY(g);
    aio_close(f->loop, f->fd);
    GEN_END(g);
}
static gen *new_client(int fd, void *arg)
{
    char name[NET_PEER_NAME_MAX];
    printf("Connection from: %s\n", net_peer_name(fd, name, sizeof name));
    return gen_new(client_body, &(struct client){.loop = arg, .fd = fd},
                   sizeof(struct client));
}
struct serve {
    aio_loop *loop;
    int port;
    aio_server *srv;
    aio_future *forever;
    gen_value r;
};

static int serve_body(gen *g)
{
    struct serve *f = gen_locals(g);
    int rc;
    GEN_BEGIN(g);
    rc = aio_start_server(f->loop, "127.0.0.1", f->port, new_client, f->loop, &f->srv);
    if (rc < 0)
        GEN_RAISE(g, rc, "cannot listen on 127.0.0.1:%d: %s", f->port, strerror(-rc));
    net_say_listening(NULL, f->port, NULL);
    f->forever = aio_future_new(f->loop);   /* его никто не завершит */
    AIO_AWAIT_NEW(g, f->r, f->forever);     /* ждём отмены по сигналу */
    GEN_FINALLY(g);
    aio_server_close(f->srv);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    int port = 5001, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5001)"},
        TRACE_OPTION,
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N]", opts, 0, &status) < 0)
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
    rc = aio_run(loop, gen_new(serve_body, &(struct serve){.loop = loop, .port = port},
                               sizeof(struct serve)), &r);
    aio_loop_free(loop);
    if (rc != 0 && rc != AIO_ECANCELLED) {
        fprintf(stderr, "server: %s\n", r.error.msg);
        return 1;
    }
    net_say_stopped();
    return 0;
}
