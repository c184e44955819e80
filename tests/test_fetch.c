/* lib/fetch: the glue between libcurl's multi_socket API and the aio loop.
 * The callbacks libcurl would call are called here directly, as libcurl
 * would, and the loop is then spun to see what they arranged: timer 0 is
 * scheduled (never a libcurl call from inside the callback), -1 deletes
 * the timer, a new timeout replaces the old one; the socket callback adds,
 * modifies and removes readers and writers, tolerates a socket that is
 * already closed, and a socket error reaches libcurl as CURL_CSELECT_ERR.
 * Then real transfers: each completes its Future (refused connection,
 * file:// success), fetch_remove cancels, fetch_free cleans up. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "aio.h"
#include "fetch_impl.h"
#include "net.h"
#include "support.h"

struct fx { aio_loop *loop; fetch *fx; };

static int setup(void **state)
{
    static struct fx t;
    if (aio_loop_new(&t.loop) < 0)
        return -1;
    if (fetch_new(t.loop, &t.fx) < 0)
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    struct fx *t = *state;
    fetch_free(t->fx);
    aio_loop_free(t->loop);
    return 0;
}

static void spin(aio_loop *loop, double secs)
{
    aio_future *s = aio_sleep(loop, secs);
    assert_non_null(s);
    assert_int_equal(aio_loop_run_until_complete(loop, s), 0);
    aio_future_unref(s);
}

static struct fetch_stats stats(fetch *fx)
{
    struct fetch_stats st;
    fetch_get_stats(fx, &st);
    return st;
}

/* ---- timer ---- */

static void test_timer_zero_is_scheduled_not_called(void **state)
{
    struct fx *t = *state;
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 0, t->fx), 0);
    struct fetch_stats st = stats(t->fx);
    assert_int_equal(st.timer, 1);
    assert_int_equal(st.actions, 0);      /* not from inside the callback */
    assert_int_equal(aio_loop_run_once(t->loop), 0);
    st = stats(t->fx);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.actions, 1);
    assert_int_equal(st.timer, 0);
}

static void test_timer_minus_one_deletes(void **state)
{
    struct fx *t = *state;
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 30, t->fx), 0);
    assert_int_equal(stats(t->fx).timer, 1);
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), -1, t->fx), 0);
    assert_int_equal(stats(t->fx).timer, 0);
    spin(t->loop, 0.15);
    assert_int_equal(stats(t->fx).timeouts, 0);
    assert_int_equal(stats(t->fx).actions, 0);
}

static void test_timer_rearm_replaces(void **state)
{
    struct fx *t = *state;
    /* a later deadline replaced by an earlier one: fires once */
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 300, t->fx), 0);
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 10, t->fx), 0);
    spin(t->loop, 0.6);
    assert_int_equal(stats(t->fx).timeouts, 1);
    /* an earlier deadline replaced by a later one: does not fire early */
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 10, t->fx), 0);
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 5000, t->fx), 0);
    spin(t->loop, 0.1);
    assert_int_equal(stats(t->fx).timeouts, 1);
    assert_int_equal(stats(t->fx).timer, 1);
    /* zero replaces a pending timer too */
    assert_int_equal(fetch__on_timer(fetch_multi(t->fx), 0, t->fx), 0);
    spin(t->loop, 0.05);
    assert_int_equal(stats(t->fx).timeouts, 2);
    assert_int_equal(stats(t->fx).timer, 0);
}

/* ---- sockets ---- */

static void test_socket_add_modify_remove(void **state)
{
    struct fx *t = *state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fetch__watching(t->fx, sv[0]), -1);
    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_IN, t->fx, NULL), 0);
    assert_int_equal(fetch__watching(t->fx, sv[0]), CURL_POLL_IN);
    assert_int_equal(stats(t->fx).sockets, 1);
    spin(t->loop, 0.02);
    assert_int_equal(stats(t->fx).in, 0);            /* nothing to read yet */
    assert_int_equal(write(sv[1], "x", 1), 1);
    spin(t->loop, 0.02);
    struct fetch_stats st = stats(t->fx);
    assert_true(st.in > 0);
    assert_int_equal(st.out, 0);

    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_OUT, t->fx, NULL), 0);
    assert_int_equal(fetch__watching(t->fx, sv[0]), CURL_POLL_OUT);
    unsigned long in0 = stats(t->fx).in;
    spin(t->loop, 0.02);
    assert_true(stats(t->fx).out > 0);
    assert_int_equal(stats(t->fx).in, in0);          /* reader is gone */

    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_INOUT, t->fx, NULL), 0);
    st = stats(t->fx);
    spin(t->loop, 0.02);
    assert_true(stats(t->fx).in > st.in);
    assert_true(stats(t->fx).out > st.out);

    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_NONE, t->fx, NULL), 0);
    assert_int_equal(fetch__watching(t->fx, sv[0]), CURL_POLL_NONE);
    assert_int_equal(stats(t->fx).sockets, 1);
    st = stats(t->fx);
    spin(t->loop, 0.02);
    assert_int_equal(stats(t->fx).in, st.in);
    assert_int_equal(stats(t->fx).out, st.out);

    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_REMOVE, t->fx, NULL), 0);
    assert_int_equal(fetch__watching(t->fx, sv[0]), -1);
    assert_int_equal(stats(t->fx).sockets, 0);
    st = stats(t->fx);
    spin(t->loop, 0.02);
    assert_int_equal(stats(t->fx).actions, st.actions);
    close(sv[0]);
    close(sv[1]);
}

static void test_remove_of_closed_socket_tolerated(void **state)
{
    struct fx *t = *state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_INOUT, t->fx, NULL), 0);
    close(sv[0]);                                   /* libcurl closed it first */
    assert_int_equal(fetch__on_socket(NULL, sv[0], CURL_POLL_REMOVE, t->fx, NULL), 0);
    assert_int_equal(stats(t->fx).sockets, 0);
    /* a REMOVE for a socket never seen is no error either */
    assert_int_equal(fetch__on_socket(NULL, 999, CURL_POLL_REMOVE, t->fx, NULL), 0);
    spin(t->loop, 0.02);
    assert_int_equal(stats(t->fx).actions, 0);
    close(sv[1]);
}

static void test_socket_error_becomes_cselect_err(void **state)
{
    struct fx *t = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    int s = accept(lfd, NULL, NULL);
    assert_true(s >= 0);
    struct linger lg = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s);                                       /* RST: an error on c */
    sup_sleep_ms(20);
    assert_int_equal(fetch__on_socket(NULL, c, CURL_POLL_IN, t->fx, NULL), 0);
    aio_loop_run_once(t->loop);
    assert_true(stats(t->fx).err > 0);
    assert_true(stats(t->fx).in > 0);
    assert_int_equal(fetch__on_socket(NULL, c, CURL_POLL_REMOVE, t->fx, NULL), 0);
    close(c);
    close(lfd);
}

/* ---- transfers ---- */

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf), k = size * n;
    if (have + k >= 256)
        return 0;
    memcpy(buf + have, p, k);
    buf[have + k] = '\0';
    return k;
}

static void test_refused_connection_fails_the_future(void **state)
{
    struct fx *t = *state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", sup_free_port());
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    aio_future *f = fetch_perform(t->fx, e);
    assert_non_null(f);
    assert_false(aio_future_done(f));
    assert_int_equal(aio_loop_run_until_complete(t->loop, f), 0);
    gen_error err;
    assert_int_equal(aio_future_outcome(f, NULL, &err), -ECONNREFUSED);
    assert_int_equal(err.payload.kind, GEN_INT);
    assert_int_equal(err.payload.i, CURLE_COULDNT_CONNECT);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(fetch_remove(t->fx, e), 0);    /* already done */
    assert_int_equal(stats(t->fx).sockets, 0);
    aio_future_unref(f);
    curl_easy_cleanup(e);
}

static void test_file_url_completes_the_future(void **state)
{
    struct fx *t = *state;
    char path[256], url[300], got[256] = "";
    sup_tmp_path(path, sizeof path, "fetch-file");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("hello from a file", fp);
    fclose(fp);
    snprintf(url, sizeof url, "file://%s", path);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, got);
    aio_future *f = fetch_perform(t->fx, e);
    assert_int_equal(aio_loop_run_until_complete(t->loop, f), 0);
    gen_value v;
    assert_int_equal(aio_future_outcome(f, &v, NULL), 0);
    assert_string_equal(got, "hello from a file");
    aio_future_unref(f);
    curl_easy_cleanup(e);
    unlink(path);
}

static int silent_listener(int *port)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 8) < 0
        || getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    *port = ntohs(a.sin_port);
    return lfd;
}

static void test_remove_cancels_a_running_transfer(void **state)
{
    struct fx *t = *state;
    int port, lfd = silent_listener(&port);     /* accepts (backlog), never answers */
    assert_true(lfd >= 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    aio_future *f = fetch_perform(t->fx, e);
    spin(t->loop, 0.1);
    assert_false(aio_future_done(f));
    assert_int_equal(stats(t->fx).sockets, 1);      /* waiting for the reply */
    assert_int_equal(fetch__watching(t->fx, lfd) , -1);
    assert_int_equal(fetch_remove(t->fx, e), 1);
    assert_true(aio_future_cancelled(f));
    assert_int_equal(fetch_remove(t->fx, e), 0);
    spin(t->loop, 0.02);
    assert_int_equal(stats(t->fx).sockets, 0);      /* libcurl let the socket go */
    aio_future_unref(f);
    curl_easy_cleanup(e);
    close(lfd);
}

static void test_free_with_transfers_in_flight(void **state)
{
    (void)state;
    aio_loop *loop;
    fetch *fx;
    assert_int_equal(aio_loop_new(&loop), 0);
    assert_int_equal(fetch_new(loop, &fx), 0);
    int port, lfd = silent_listener(&port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    CURL *e[3];
    aio_future *f[3];
    for (int i = 0; i < 3; i++) {
        e[i] = curl_easy_init();
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        f[i] = fetch_perform(fx, e[i]);
    }
    spin(loop, 0.1);
    fetch_free(fx);                                 /* under ASan: nothing leaks */
    for (int i = 0; i < 3; i++) {
        assert_true(aio_future_cancelled(f[i]));
        aio_future_unref(f[i]);
        curl_easy_cleanup(e[i]);
    }
    aio_loop_free(loop);
    close(lfd);
}

/* FETCH_ECURL has a text of its own, not strerror's "Unknown error". */
static void test_net_strerror_knows_fetch_code(void **state)
{
    (void)state;
    assert_string_equal(net_strerror(FETCH_ECURL), "libcurl error");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_strerror_knows_fetch_code),
        cmocka_unit_test_setup_teardown(test_timer_zero_is_scheduled_not_called, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_minus_one_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_rearm_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_add_modify_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_of_closed_socket_tolerated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_error_becomes_cselect_err, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_connection_fails_the_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_url_completes_the_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_cancels_a_running_transfer, setup, teardown),
        cmocka_unit_test(test_free_with_transfers_in_flight),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
