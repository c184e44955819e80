/* Этот файл извлечён (tangle) из книги: book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio_impl.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum sock_kind { SOCK_ACCEPT, SOCK_RECV, SOCK_SENDALL, SOCK_CONNECT };
static const char *const sock_kind_name[] = {"accept", "recv", "sendall", "connect"};

struct sock_op {
    aio_future fut;
    enum sock_kind kind;
    int fd;
    int waiting;           /* подписана на готовность fd */
    char *buf;             /* recv: куда; sendall: откуда */
    size_t len, done;
};

static int is_writer(const struct sock_op *op)
{
    return op->kind == SOCK_SENDALL || op->kind == SOCK_CONNECT;
}

static void stop_waiting(struct sock_op *op)
{
    if (!op->waiting)
        return;
    op->waiting = 0;
    aio__remove_io(op->fut.loop, op->fd, is_writer(op), 1);
}
static int sock_cancel(aio_future *f, const char *msg)
{
    if (f->state != AIO_PENDING)
        return 0;
    stop_waiting((struct sock_op *)f);
    return aio__future_cancel_base(f, msg);
}

static void sock_destroy(aio_future *f)
{
    stop_waiting((struct sock_op *)f);
}

static const struct aio_future_class sock_class = {
    "sock_op", sock_cancel, sock_destroy, sizeof(struct sock_op)};
static int finish_error(struct sock_op *op, int err, const char *what)
{
    stop_waiting(op);
    gen_error e = gen_err(-err, "%s: %s", what, strerror(err));
    aio_future_set_error(&op->fut, &e);
    return 1;
}

static int finish(struct sock_op *op, gen_value v)
{
    stop_waiting(op);
    aio_future_set_result(&op->fut, v);
    return 1;
}

static int would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS;
}
static int try_op(struct sock_op *op)
{
    for (;;) {
        ssize_t n;
        switch (op->kind) {
        case SOCK_ACCEPT:
            n = accept(op->fd, NULL, NULL);
            if (n >= 0) {
                int rc = net_set_nonblocking((int)n);
                if (rc < 0) {
                    close((int)n);
                    return finish_error(op, -rc, "accept: O_NONBLOCK");
                }
                return finish(op, gen_int(n));
            }
            if (errno == ECONNABORTED)     /* клиент ушёл из очереди: следующий */
                continue;
            break;
        case SOCK_RECV:
            n = recv(op->fd, op->buf, op->len, 0);
            if (n >= 0)
                return finish(op, gen_int(n));
            break;
        case SOCK_SENDALL:
            n = op->done < op->len ? send(op->fd, op->buf + op->done,
                                          op->len - op->done, MSG_NOSIGNAL)
                                   : 0;
            if (n >= 0) {
                op->done += (size_t)n;
                if (op->done == op->len)
                    return finish(op, gen_int((long long)op->len));
                continue;                  /* частичная запись: ещё раз */
            }
            break;
        case SOCK_CONNECT:
            if (op->done == 0) {
                op->done = 1;
                if (connect(op->fd, (const struct sockaddr *)op->buf,
                            (socklen_t)op->len) == 0)
                    return finish(op, gen_none());
            } else {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                    err = errno;
                if (err == 0)
                    return finish(op, gen_none());
                errno = err;
            }
            break;
        }
        if (errno == EINTR)
            continue;
        if (would_block(errno))
            return 0;
        return finish_error(op, errno, op->kind == SOCK_ACCEPT ? "accept"
                                       : op->kind == SOCK_RECV ? "recv"
                                       : op->kind == SOCK_SENDALL ? "send"
                                                                  : "connect");
    }
}
static void sock_ready(void *arg, int events)
{
    (void)events;                  /* что именно -- скажет сам вызов */
    struct sock_op *op = arg;
    aio_future_ref(&op->fut);      /* колбэки Future могут отпустить op */
    try_op(op);
    aio_future_unref(&op->fut);
}
static aio_future *start_op(aio_loop *loop, enum sock_kind kind, int fd,
                            void *buf, size_t len)
{
    struct sock_op *op = aio__alloc(loop, sizeof *op);
    if (op == NULL)
        return NULL;
    aio__future_init(&op->fut, loop, &sock_class);
    op->kind = kind;
    op->fd = fd;
    op->buf = buf;
    op->len = len;
    TRACE(fd_event(fd, is_writer(op), sock_kind_name[kind]));
    if (aio__io_busy(loop, fd, is_writer(op))) {
        finish_error(op, EBUSY, "another operation waits on this socket");
        return &op->fut;
    }
    if (try_op(op))
        return &op->fut;           /* получилось сразу: Future уже завершён */
    int rc = is_writer(op) ? aio_add_writer(loop, fd, sock_ready, op)
                           : aio_add_reader(loop, fd, sock_ready, op);
    if (rc < 0)
        finish_error(op, -rc, "cannot watch the socket");
    else
        op->waiting = 1;
    return &op->fut;
}
aio_future *aio_sock_accept(aio_loop *loop, int listen_fd)
{
    return start_op(loop, SOCK_ACCEPT, listen_fd, NULL, 0);
}

aio_future *aio_sock_recv(aio_loop *loop, int fd, void *buf, size_t cap)
{
    return start_op(loop, SOCK_RECV, fd, buf, cap);
}

aio_future *aio_sock_sendall(aio_loop *loop, int fd, const void *buf,
                             size_t len)
{
    return start_op(loop, SOCK_SENDALL, fd, (void *)buf, len);
}

aio_future *aio_sock_connect(aio_loop *loop, int fd,
                             const struct sockaddr *addr, socklen_t len)
{
    return start_op(loop, SOCK_CONNECT, fd, (void *)addr, len);
}
struct aio_server {
    aio_loop *loop;
    int fd;
    aio_client_handler *make;
    void *arg;
    aio_handle *retry;         /* таймер возобновления после EMFILE */
};

enum { ACCEPT_BATCH = 128 };
static const double ACCEPT_RETRY_DELAY = 0.1;

static void server_accept(void *arg, int events);
static void server_resume(void *arg);

static void server_pause(aio_server *srv, const char *what, int err)
{
    srv->retry = aio_call_later(srv->loop, ACCEPT_RETRY_DELAY, server_resume, srv);
    if (srv->retry == NULL) {     /* без таймера читателя некому вернуть */
        fprintf(stderr, "%s: %s; no memory for a pause\n", what, strerror(err));
        return;
    }
    fprintf(stderr, "%s: %s; pausing for %.1f s\n", what, strerror(err),
            ACCEPT_RETRY_DELAY);
    aio_remove_reader(srv->loop, srv->fd);
}

static void server_resume(void *arg)
{
    aio_server *srv = arg;
    srv->retry = NULL;
    int rc = aio_add_reader(srv->loop, srv->fd, server_accept, srv);
    if (rc < 0)
        server_pause(srv, "cannot watch the listening socket", -rc);
}
static void server_accept(void *arg, int events)
{
    (void)events;
    aio_server *srv = arg;
    TRACE(fd_event(srv->fd, 0, "accept"));
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept(srv->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM) {
                server_pause(srv, "accept", errno);
                return;
            }
            return;                /* EAGAIN: очередь пуста */
        }
        aio_future *task = NULL;
        if (net_set_nonblocking(fd) == 0)
            task = aio_create_task(srv->loop, srv->make(fd, srv->arg));
        if (task == NULL)
            close(fd);             /* корутину не создать: отказать */
        aio_future_unref(task);    /* задачу держит цикл */
    }
}
int aio_start_server(aio_loop *loop, const char *host, int port,
                     aio_client_handler *make, void *arg, aio_server **out)
{
    aio_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return -ENOMEM;
    *srv = (aio_server){loop, -1, make, arg, NULL};
    srv->fd = net_listen(host, port);
    int rc = srv->fd < 0 ? srv->fd : net_set_nonblocking(srv->fd);
    if (rc == 0)
        rc = aio_add_reader(loop, srv->fd, server_accept, srv);
    if (rc < 0) {
        if (srv->fd >= 0)
            close(srv->fd);
        free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

void aio_server_close(aio_server *srv)
{
    if (srv == NULL)
        return;
    aio_handle_cancel(srv->retry);
    aio_remove_reader(srv->loop, srv->fd);
    close(srv->fd);
    free(srv);
}
