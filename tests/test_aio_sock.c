/* Awaitable socket operations of chapter 10: a task waiting on a silent
 * socket stops no one, accept, recv, sendall with partial writes, connect (success and refusal), one waiter per direction,
 * cancellation unsubscribes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "aio.h"
#include "net.h"
#include "support.h"

static void nonblocking_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    net_set_nonblocking(sv[0]);
    net_set_nonblocking(sv[1]);
}

/* a reader coroutine: reads until EOF, counts bytes */
struct reader { aio_loop *loop; int fd; long long total; gen_value r; char buf[1000]; };

static int reader_body(gen *g)
{
    struct reader *f = gen_locals(g);
    GEN_BEGIN(g);
    do {
        AIO_AWAIT_NEW(g, f->r, aio_sock_recv(f->loop, f->fd, f->buf, sizeof f->buf));
        f->total += f->r.i;
    } while (f->r.i > 0);
    GEN_RETURN(g, gen_int(f->total));
    GEN_END(g);
}

/* a writer coroutine: sends len bytes in one sendall, then closes */
struct writer { aio_loop *loop; int fd; char *data; size_t len; gen_value r; };

static int writer_body(gen *g)
{
    struct writer *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sock_sendall(f->loop, f->fd, f->data, f->len));
    shutdown(f->fd, SHUT_WR);
    GEN_RETURN(g, f->r);
    GEN_END(g);
}

static void test_sendall_handles_partial_writes(void **state)
{
    aio_loop *loop = *state;
    enum { LEN = 8 * 1024 * 1024 }; /* far more than a socket buffer */
    int sv[2];
    nonblocking_pair(sv);
    char *data = malloc(LEN);
    memset(data, 'x', LEN);
    aio_future *w = aio_create_task(loop, gen_new(writer_body,
        &(struct writer){loop, sv[0], data, LEN, {0}}, sizeof(struct writer)));
    aio_future *r = aio_create_task(loop, gen_new(reader_body,
        &(struct reader){.loop = loop, .fd = sv[1]}, sizeof(struct reader)));
    aio_future *both[2] = {w, r};
    aio_future *all = aio_gather(loop, both, 2);
    assert_int_equal(aio_loop_run_until_complete(loop, all), 0);
    gen_value v;
    assert_int_equal(aio_future_outcome(all, &v, NULL), 0);
    gen_value *res = v.p;
    assert_int_equal(res[0].i, LEN);
    assert_int_equal(res[1].i, LEN); /* every byte arrived */
    aio_future_unref(all);
    aio_future_unref(w);
    aio_future_unref(r);
    free(data);
    close(sv[0]);
    close(sv[1]);
}

/* The cure for the scenario "read" of chapter 10 (a blocking read stops
 * every task): a task awaiting recv on a silent socket lets the others
 * run. A ticker sleeps five times while the reader waits; only then does
 * the reader get its bytes. */
struct ticker { aio_loop *loop; int ticks; gen_value r; };

static int ticker_body(gen *g)
{
    struct ticker *f = gen_locals(g);
    GEN_BEGIN(g);
    for (; f->ticks < 5; f->ticks++)
        AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0.01));
    GEN_END(g);
}

static void test_awaiting_a_silent_socket_stops_no_one(void **state)
{
    aio_loop *loop = *state;
    int sv[2];
    nonblocking_pair(sv);
    aio_future *r = aio_create_task(loop, gen_new(reader_body,
        &(struct reader){.loop = loop, .fd = sv[1]}, sizeof(struct reader)));
    aio_future *t = aio_create_task(loop, gen_new(ticker_body,
        &(struct ticker){.loop = loop}, sizeof(struct ticker)));
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_false(aio_future_done(r));     /* still waiting, nobody blocked */
    assert_int_equal(write(sv[0], "hi", 2), 2);
    close(sv[0]);
    assert_int_equal(aio_loop_run_until_complete(loop, r), 0);
    gen_value v;
    assert_int_equal(aio_future_outcome(r, &v, NULL), 0);
    assert_int_equal(v.i, 2);
    aio_future_unref(r);
    aio_future_unref(t);
    close(sv[1]);
}

static void test_recv_ready_data_completes_at_once(void **state)
{
    aio_loop *loop = *state;
    int sv[2];
    nonblocking_pair(sv);
    assert_int_equal(write(sv[1], "abc", 3), 3);
    char buf[8];
    aio_future *f = aio_sock_recv(loop, sv[0], buf, sizeof buf);
    assert_true(aio_future_done(f)); /* tried first, no wait */
    gen_value v;
    assert_int_equal(aio_future_outcome(f, &v, NULL), 0);
    assert_int_equal(v.i, 3);
    assert_int_equal(aio_future_cancel(f, NULL), 0);   /* done: too late to cancel */
    aio_future_unref(f);
    close(sv[0]);
    close(sv[1]);
}

static void test_second_reader_on_same_fd_is_busy(void **state)
{
    aio_loop *loop = *state;
    int sv[2];
    nonblocking_pair(sv);
    char buf[8];
    aio_future *a = aio_sock_recv(loop, sv[0], buf, sizeof buf);
    aio_future *b = aio_sock_recv(loop, sv[0], buf, sizeof buf);
    assert_false(aio_future_done(a));
    assert_int_equal(aio_future_outcome(b, NULL, NULL), -EBUSY);
    assert_int_equal(aio_future_cancel(a, NULL), 1); /* unsubscribes */
    aio_future *c = aio_sock_recv(loop, sv[0], buf, sizeof buf);
    assert_false(aio_future_done(c)); /* not busy any more */
    aio_future_unref(a);
    aio_future_unref(b);
    aio_future_unref(c); /* freeing a waiting op unsubscribes too */
    assert_int_equal(aio_remove_reader(loop, sv[0]), 0);
    close(sv[0]);
    close(sv[1]);
}

static void test_accept_and_connect(void **state)
{
    aio_loop *loop = *state;
    int port = sup_free_port();
    int lfd = net_listen("127.0.0.1", port);
    assert_true(lfd >= 0);
    net_set_nonblocking(lfd);
    aio_future *acc = aio_sock_accept(loop, lfd);
    assert_false(aio_future_done(acc));
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    net_set_nonblocking(cfd);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    aio_future *con = aio_sock_connect(loop, cfd, (struct sockaddr *)&a, sizeof a);
    aio_future *both[2] = {acc, con};
    aio_future *all = aio_gather(loop, both, 2);
    assert_int_equal(aio_loop_run_until_complete(loop, all), 0);
    gen_value v;
    assert_int_equal(aio_future_outcome(acc, &v, NULL), 0);
    int sfd = (int)v.i;
    assert_true(sfd >= 0);
    assert_true(fcntl(sfd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(aio_future_outcome(con, NULL, NULL), 0);
    aio_future_unref(all);
    aio_future_unref(acc);
    aio_future_unref(con);
    close(sfd);
    close(cfd);
    close(lfd);
}

static void test_connect_refused_is_an_error(void **state)
{
    aio_loop *loop = *state;
    int port = sup_free_port(); /* nobody listens there */
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    net_set_nonblocking(cfd);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    aio_future *con = aio_sock_connect(loop, cfd, (struct sockaddr *)&a, sizeof a);
    if (!aio_future_done(con))
        assert_int_equal(aio_loop_run_until_complete(loop, con), 0);
    gen_error e;
    assert_int_equal(aio_future_outcome(con, NULL, &e), -ECONNREFUSED);
    assert_non_null(strstr(e.msg, "connect"));
    aio_future_unref(con);
    close(cfd);
}

/* connect that the kernel completes at once (a Unix socket): done
   without waiting, no error */
static void test_connect_completed_at_once(void **state)
{
    aio_loop *loop = *state;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    sup_tmp_path(a.sun_path, sizeof a.sun_path, "sock");
    unlink(a.sun_path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(l >= 0 && c >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    net_set_nonblocking(c);
    aio_future *f = aio_sock_connect(loop, c, (struct sockaddr *)&a, sizeof a);
    assert_true(aio_future_done(f));   /* tried first, no wait */
    assert_int_equal(aio_future_outcome(f, NULL, NULL), 0);
    aio_future_unref(f);
    close(c);
    close(l);
    unlink(a.sun_path);
}

/* ---- the server: start refused, a client it cannot serve ---- */

static gen *no_handler(int fd, void *arg)
{
    (void)fd;
    ++*(int *)arg;
    return NULL;                    /* as gen_new says when memory runs out */
}

static int next_fd(void)            /* the descriptor the next open gets */
{
    int fd = dup(0);
    close(fd);
    return fd;
}

static void test_server_on_a_busy_port_is_refused(void **state)
{
    aio_loop *loop = *state;
    int port = sup_free_port();
    int busy = net_listen("127.0.0.1", port);
    assert_true(busy >= 0);
    int fd = next_fd();
    aio_server *srv = NULL;
    assert_int_equal(aio_start_server(loop, "127.0.0.1", port, no_handler, NULL, &srv),
                     -EADDRINUSE);
    assert_int_equal(aio_start_server(loop, "no.such.host", port, no_handler, NULL, &srv),
                     -EINVAL);
    assert_null(srv);
    assert_int_equal(next_fd(), fd);  /* no socket left open (ASan: nothing leaked) */
    close(busy);
}

static void test_server_closes_a_client_it_cannot_serve(void **state)
{
    aio_loop *loop = *state;
    int port = sup_free_port(), made = 0;
    aio_server *srv;
    assert_int_equal(aio_start_server(loop, "127.0.0.1", port, no_handler, &made, &srv), 0);
    for (int k = 1; k <= 2; k++) {  /* the server survives the refusal */
        int c = sup_connect(port, 2000);
        assert_true(c >= 0);
        while (made < k)
            assert_int_equal(aio_loop_run_once(loop), 0);
        char b[16];
        assert_int_equal(sup_recv_timeout(c, b, sizeof b, 2000), 0);  /* closed */
        close(c);
    }
    aio_server_close(srv);
}

/* A recv that had to wait, on socket pair sv: its outcome (2 bytes), or
 * an error if the loop does not wake it within two seconds. */
static long long recv_that_waits(aio_loop *loop, int sv[2])
{
    char buf[10];
    aio_future *r = aio_sock_recv(loop, sv[1], buf, sizeof buf);
    assert_false(aio_future_done(r));        /* nothing sent yet: it waits */
    aio_future *w = aio_wait_for(loop, r, 2.0);
    aio_future_unref(r);
    assert_int_equal(write(sv[0], "hi", 2), 2);
    int rc = aio_loop_run_until_complete(loop, w);
    gen_value v = gen_int(0);
    gen_error e;
    int out = aio_future_outcome(w, &v, &e);
    aio_future_unref(w);
    return rc < 0 ? rc : out < 0 ? out : v.i;
}

/* A finished socket operation may leave its descriptor registered in the
 * selector (lazy deregistration, chapter 10). aio_close must drop that
 * registration: the next socket gets the same number, and a recv on it
 * must still be woken: with epoll a stale registration of the closed
 * socket would make the loop think the new one is watched already (the
 * recv never wakes). Before the number is reused, a stale registration
 * would fail the select backend's wait with EBADF. */
static void test_fd_number_reused_after_aio_close(void **state)
{
    aio_loop *loop = *state;
    int sv[2];
    nonblocking_pair(sv);
    int first = sv[1];
    assert_int_equal(recv_that_waits(loop, sv), 2);
    assert_int_equal(aio_close(loop, sv[1]), 0);
    close(sv[0]);
    aio_future *nap = aio_sleep(loop, 0.001);
    assert_int_equal(aio_loop_run_until_complete(loop, nap), 0);
    aio_future_unref(nap);
    nonblocking_pair(sv);
    if (sv[1] != first) {                    /* the numbers came in swapped */
        int t = sv[0];
        sv[0] = sv[1];
        sv[1] = t;
    }
    assert_int_equal(sv[1], first);
    assert_int_equal(recv_that_waits(loop, sv), 2);
    assert_int_equal(aio_close(loop, sv[1]), 0);
    close(sv[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, sup_loop_setup, sup_loop_teardown)
        T(test_sendall_handles_partial_writes),
        T(test_awaiting_a_silent_socket_stops_no_one),
        T(test_recv_ready_data_completes_at_once),
        T(test_second_reader_on_same_fd_is_busy),
        T(test_accept_and_connect),
        T(test_connect_refused_is_an_error),
        T(test_connect_completed_at_once),
        T(test_server_on_a_busy_port_is_refused),
        T(test_server_closes_a_client_it_cannot_serve),
        T(test_fd_number_reused_after_aio_close),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
