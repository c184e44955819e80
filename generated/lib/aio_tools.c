/* Этот файл извлечён (tangle) из книги: book/09-tasks.nw book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio_impl.h"

#include <signal.h>
#include <stdlib.h>

static void sleep_done(void *arg)
{
    aio_future *f = arg;
    f->timer = NULL;                   /* хэндл уже выполняется */
    aio_future_set_result(f, gen_none());
}

aio_future *aio_sleep(aio_loop *loop, double delay)
{
    aio_future *f = aio_future_new(loop);
    if (f == NULL)
        return NULL;
    f->timer = aio_call_later(loop, delay, sleep_done, f);
    if (f->timer == NULL) {
        aio_future_unref(f);
        return NULL;
    }
    return f;
}
struct gather {
    aio_future fut;
    size_t n, ndone;
    aio_future **children;             /* свои ссылки */
    gen_value *results;
    int cancel_requested;
};

static int gather_cancel(aio_future *f, const char *msg)
{
    struct gather *g = (struct gather *)f;
    if (f->state != AIO_PENDING)
        return 0;
    int any = 0;
    for (size_t i = 0; i < g->n; i++)
        any |= aio_future_cancel(g->children[i], msg);
    if (any)
        g->cancel_requested = 1;       /* завершимся, когда дети ответят */
    return any;
}
static void gather_destroy(aio_future *f)
{
    struct gather *g = (struct gather *)f;
    for (size_t i = 0; i < g->n; i++)
        aio_future_unref(g->children[i]);
    free(g->children);
    free(g->results);
}

static const struct aio_future_class gather_class = {
    "gather", gather_cancel, gather_destroy, sizeof(struct gather)};
static void gather_child_done(aio_future *child, void *arg)
{
    struct gather *g = arg;
    g->ndone++;
    gen_error e;
    int rc = aio_future_outcome(child, NULL, &e);
    if (g->fut.state != AIO_PENDING)
        return;                        /* исход уже решён первой ошибкой */
    if (rc != 0) {
        aio_future_set_error(&g->fut, &e);
        return;
    }
    if (g->ndone < g->n)
        return;
    for (size_t i = 0; i < g->n; i++)
        aio_future_outcome(g->children[i], &g->results[i], NULL);
    if (g->cancel_requested) {
        e = gen_err(AIO_ECANCELLED, "gather cancelled");
        aio_future_set_error(&g->fut, &e);
    } else {
        aio_future_set_result(&g->fut, gen_ptr(g->results));
    }
}
aio_future *aio_gather(aio_loop *loop, aio_future *const *futs, size_t n)
{
    struct gather *g = aio__alloc(loop, sizeof *g);
    if (g == NULL)
        return NULL;
    aio__future_init(&g->fut, loop, &gather_class);
    g->children = calloc(n ? n : 1, sizeof *g->children);
    g->results = calloc(n ? n : 1, sizeof *g->results);
    if (g->children == NULL || g->results == NULL) {
        aio_future_unref(&g->fut);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        g->children[g->n++] = aio_future_ref(futs[i]);
        if (aio__add_done_callback_ref(futs[i], gather_child_done,
                                       &g->fut) < 0) {
            gather_cancel(&g->fut, "out of memory");
            aio_future_unref(&g->fut);
            return NULL;
        }
    }
    if (n == 0)
        aio_future_set_result(&g->fut, gen_ptr(g->results));
    return &g->fut;
}
struct wait_for {
    aio_future fut;
    aio_future *inner;
    int timed_out;
};

static int wait_for_cancel(aio_future *f, const char *msg)
{
    struct wait_for *w = (struct wait_for *)f;
    return f->state == AIO_PENDING && aio_future_cancel(w->inner, msg);
}

static void wait_for_destroy(aio_future *f)
{
    aio_future_unref(((struct wait_for *)f)->inner);
}

static const struct aio_future_class wait_for_class = {
    "wait_for", wait_for_cancel, wait_for_destroy, sizeof(struct wait_for)};
static void wait_for_expired(void *arg)
{
    struct wait_for *w = arg;
    w->fut.timer = NULL;
    w->timed_out = 1;
    aio_future_cancel(w->inner, "timed out");
}

static void wait_for_inner_done(aio_future *inner, void *arg)
{
    struct wait_for *w = arg;
    gen_value v;
    gen_error e;
    int rc = aio_future_outcome(inner, &v, &e);
    if (w->fut.state != AIO_PENDING)
        return;
    if (rc == AIO_ECANCELLED && w->timed_out) {
        e = gen_err(AIO_ETIMEDOUT, "timed out");
        aio_future_set_error(&w->fut, &e);
    } else if (rc == AIO_ECANCELLED) {
        aio__future_cancel_base(&w->fut, e.msg);
    } else if (rc != 0) {
        aio_future_set_error(&w->fut, &e);
    } else {
        aio_future_set_result(&w->fut, v);
    }
}
aio_future *aio_wait_for(aio_loop *loop, aio_future *inner, double timeout)
{
    struct wait_for *w = aio__alloc(loop, sizeof *w);
    if (w == NULL)
        return NULL;
    aio__future_init(&w->fut, loop, &wait_for_class);
    w->inner = aio_future_ref(inner);
    w->fut.timer = aio_call_later(loop, timeout, wait_for_expired, w);
    if (w->fut.timer == NULL
        || aio__add_done_callback_ref(inner, wait_for_inner_done, &w->fut) < 0) {
        aio_future_unref(&w->fut);
        return NULL;
    }
    return &w->fut;
}
static void stop_loop(aio_future *f, void *arg)
{
    (void)f;
    aio_loop_stop(arg);
}

int aio_loop_run_until_complete(aio_loop *loop, aio_future *f)
{
    int rc = aio_future_add_done_callback(f, stop_loop, loop);
    if (rc < 0)
        return rc;
    rc = aio_loop_run_forever(loop);
    aio_future_remove_done_callback(f, stop_loop, loop);
    if (rc == 0 && !aio_future_done(f))
        rc = -EINTR;
    return rc;
}
enum { SHUTDOWN_MAX_ITERATIONS = 100000 };
static const double SHUTDOWN_GRACE = 1.0;  /* секунды на доработку */

static void shutdown_late(void *arg)
{
    *(int *)arg = 1;
}

void aio_loop_shutdown(aio_loop *loop)
{
    int late = 0;
    aio__cancel_tasks(loop, "loop shutdown");
    aio_handle *deadline = aio_call_later(loop, SHUTDOWN_GRACE, shutdown_late, &late);
    if (deadline == NULL)
        late = 1;                      /* без таймера ждать нельзя */
    for (int i = 0; aio_pending_tasks(loop) > 0 && !late && i < SHUTDOWN_MAX_ITERATIONS; i++)
        if (aio_loop_run_once(loop) < 0)
            break;
    if (!late)
        aio_handle_cancel(deadline);   /* не сработал: снять */
    for (int i = 0; loop->nready > 0 && i < 16; i++)
        aio_loop_run_once(loop);       /* колбэки последних завершений */
}
static void cancel_main(void *arg)
{
    aio_future_cancel(arg, "stopped by a signal");
}

int aio_run(aio_loop *loop, gen *main, gen_result *out)
{
    aio_future *task = aio_create_task(loop, main);
    if (task == NULL)
        return -ENOMEM;
    aio_add_signal_handler(loop, SIGINT, cancel_main, task);
    aio_add_signal_handler(loop, SIGTERM, cancel_main, task);
    int rc = aio_loop_run_until_complete(loop, task);
    aio_remove_signal_handler(loop, SIGINT);
    aio_remove_signal_handler(loop, SIGTERM);
    gen_result r = {.status = GEN_FAILED};
    if (rc == 0) {
        rc = aio_future_outcome(task, &r.value, &r.error);
        r.status = rc == 0 ? GEN_RETURNED : GEN_FAILED;
    } else {
        r.error = gen_err(rc, "event loop failed");
    }
    if (out != NULL)
        *out = r;
    aio_future_unref(task);
    aio_loop_shutdown(loop);
    return rc;
}
