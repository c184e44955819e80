/* Этот файл извлечён (tangle) из книги: book/09-tasks.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio_impl.h"

#include <stdio.h>
#include <stdlib.h>

static void task_step(struct aio_task *t, gen_value send,
                      const gen_error *thrown);
struct aio_tasks {
    struct aio_task *head;             /* незавершённые задачи */
    size_t n;
    aio_future *current;               /* задача, чей шаг идёт сейчас */
};

static void tasks_close(aio_loop *loop, void *arg);

static struct aio_tasks *loop_tasks(const aio_loop *loop, int create)
{
    struct aio_tasks *ts = aio__close_hook_arg(loop, tasks_close);
    if (ts != NULL || !create)
        return ts;
    ts = calloc(1, sizeof *ts);
    if (ts != NULL && aio__add_close_hook((aio_loop *)loop, tasks_close, ts) < 0) {
        free(ts);
        ts = NULL;
    }
    return ts;
}
static int task_cancel(aio_future *f, const char *msg);

static void task_destroy(aio_future *f)
{
    struct aio_task *t = (struct aio_task *)f;
    if (f->error.code != 0 && f->error.code != AIO_ECANCELLED
        && !f->retrieved)
        fprintf(stderr, "aio: task failed and nobody awaited it: %s\n",
                f->error.msg);
    gen_free(t->coro);
}

static const struct aio_future_class task_class = {
    "Task", task_cancel, task_destroy, sizeof(struct aio_task)};
static void step_scheduled(void *arg);

aio_future *aio_create_task(aio_loop *loop, gen *coro)
{
    struct aio_tasks *ts = loop_tasks(loop, 1);
    struct aio_task *t = coro && ts ? aio__alloc(loop, sizeof *t) : NULL;
    if (t == NULL) {
        gen_free(coro);
        return NULL;
    }
    aio__future_init(&t->fut, loop, &task_class);
    t->coro = coro;
    TRACE(new_lane(&coro->lane, coro->name));
    if (aio_call_soon(loop, step_scheduled, t) == NULL) {
        aio_future_unref(&t->fut);
        return NULL;
    }
    t->fut.refs++;                     /* ссылка цикла, пока не завершена */
    t->next = ts->head;
    if (ts->head != NULL)
        ts->head->prev = t;
    ts->head = t;
    ts->n++;
    return &t->fut;
}
static void step_scheduled(void *arg)
{
    struct aio_task *t = arg;
    if (t->throw_next) {
        t->throw_next = 0;
        gen_error e = t->fut.error;
        t->fut.error.code = 0;         /* поле снова свободно для исхода */
        task_step(t, gen_none(), &e);
    } else {
        task_step(t, gen_none(), NULL);
    }
}

static void schedule_step(struct aio_task *t, const gen_error *thrown)
{
    if (thrown != NULL) {
        t->throw_next = 1;
        t->fut.error = *thrown;        /* задача ещё не завершена */
    }
    if (aio_call_soon(t->fut.loop, step_scheduled, t) == NULL) {
        gen_error e = gen_err(-ENOMEM, "cannot schedule a task step");
        aio_future_set_error(&t->fut, &e);
    }
}
static void task_wakeup(aio_future *w, void *arg)
{
    struct aio_task *t = (struct aio_task *)arg;
    gen_value v = gen_none();
    gen_error e;
    int rc = aio_future_outcome(w, &v, &e);
    if (t->waiter == w) {
        t->waiter = NULL;
        aio_future_unref(w);           /* ссылка, отданная await-ом */
    }
    if (t->fut.state == AIO_PENDING)
        task_step(t, v, rc != 0 ? &e : NULL);
}
static void task_park(struct aio_task *t, gen_value y)
{
    gen_error e;
    aio_future *w = y.kind == GEN_PTR ? y.p : NULL;
    if (y.kind == GEN_NONE) {          /* голый yield: уступить одну итерацию */
        schedule_step(t, NULL);
        return;
    }
    if (w == NULL || w->magic != AIO_FUTURE_MAGIC) {
        e = gen_err(w == NULL && y.kind == GEN_PTR ? -ENOMEM : -EINVAL,
                    "task got a bad yield: not a Future");
        schedule_step(t, &e);
        return;
    }
    if (w->loop != t->fut.loop)
        e = gen_err(-EXDEV, "awaited Future belongs to another loop");
    else if (w == &t->fut)
        e = gen_err(-EDEADLK, "task cannot await itself");
    else if (aio__add_done_callback_ref(w, task_wakeup, &t->fut) < 0)
        e = gen_err(-ENOMEM, "cannot add a done callback");
    else
        e.code = 0;
    if (e.code != 0) {
        aio_future_unref(w);
        schedule_step(t, &e);
        return;
    }
    t->waiter = w;
    if (t->must_cancel && aio_future_cancel(w, "cancelled while waiting"))
        t->must_cancel = 0;
}
static void task_finish(struct aio_task *t, const gen_result *r)
{
    if (r->status == GEN_RETURNED && !t->must_cancel)
        aio_future_set_result(&t->fut, r->value);
    else if (r->status == GEN_RETURNED || r->error.code == AIO_ECANCELLED)
        aio__future_cancel_base(&t->fut, r->status == GEN_RETURNED
                                             ? "cancelled" : r->error.msg);
    else
        aio_future_set_error(&t->fut, &r->error);
    struct aio_tasks *ts = loop_tasks(t->fut.loop, 0);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        ts->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    ts->n--;
}
static void task_step(struct aio_task *t, gen_value send,
                      const gen_error *thrown)
{
    struct aio_tasks *ts = loop_tasks(t->fut.loop, 0);
    gen_error cancel;
    if (t->must_cancel) {              /* отмена, которую некуда было передать */
        t->must_cancel = 0;
        cancel = gen_err(AIO_ECANCELLED, "cancelled");
        thrown = &cancel;
    }
    aio_future *outer = ts->current;
    ts->current = &t->fut;
    TRACE(begin(t->coro->lane, t->coro->name));
    gen_result r;
    if (thrown != NULL)
        gen_throw(t->coro, thrown, &r);
    else
        gen_send(t->coro, send, &r);
    TRACE(end(t->coro->lane));
    ts->current = outer;
    if (r.status == GEN_YIELDED) {
        task_park(t, r.value);
        return;
    }
    task_finish(t, &r);
    aio_future_unref(&t->fut);         /* ссылка цикла: задача завершена */
}
static int task_cancel(aio_future *f, const char *msg)
{
    struct aio_task *t = (struct aio_task *)f;
    if (f->state != AIO_PENDING)
        return 0;
    if (t->waiter != NULL && aio_future_cancel(t->waiter, msg))
        return 1;                      /* проснётся с ошибкой отмены */
    t->must_cancel = 1;                /* передадим на следующем шаге */
    return 1;
}
aio_future *aio_current_task(aio_loop *loop)
{
    struct aio_tasks *ts = loop_tasks(loop, 0);
    return ts != NULL ? ts->current : NULL;
}

size_t aio_pending_tasks(const aio_loop *loop)
{
    struct aio_tasks *ts = loop_tasks(loop, 0);
    return ts != NULL ? ts->n : 0;
}

void aio__cancel_tasks(aio_loop *loop, const char *msg)
{
    struct aio_tasks *ts = loop_tasks(loop, 0);
    for (struct aio_task *t = ts ? ts->head : NULL; t != NULL; t = t->next)
        aio_future_cancel(&t->fut, msg);
}

static void tasks_close(aio_loop *loop, void *arg)
{
    struct aio_tasks *ts = arg;
    if (ts->n > 0)
        aio_loop_shutdown(loop);       /* по-хорошему: отменить и дождаться */
    while (ts->head != NULL) {         /* по-плохому: кто не успел */
        struct aio_task *t = ts->head;
        ts->head = t->next;
        ts->n--;
        t->prev = t->next = NULL;
        if (t->waiter != NULL) {
            aio_future_remove_done_callback(t->waiter, task_wakeup, t);
            aio_future_unref(t->waiter);
            t->waiter = NULL;
        }
        gen_free(t->coro);             /* закрыть: выполнится GEN_FINALLY */
        t->coro = NULL;
        t->fut.state = AIO_CANCELLED;
        t->fut.error = gen_err(AIO_ECANCELLED, "loop closed");
        aio_future_unref(&t->fut);     /* ссылка цикла */
    }
    free(ts);
}
