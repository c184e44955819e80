/* Этот файл извлечён (tangle) из книги: book/09-tasks.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio_impl.h"

#include <stdio.h>
#include <stdlib.h>

static const struct aio_future_class plain_future = {"Future", NULL, NULL,
                                                     sizeof(aio_future)};

void aio__future_init(aio_future *f, aio_loop *loop,
                      const struct aio_future_class *cls)
{
    f->magic = AIO_FUTURE_MAGIC;
    f->cls = cls;
    f->loop = loop;
    f->refs = 1;
    f->state = AIO_PENDING;
}

aio_future *aio_future_new(aio_loop *loop)
{
    aio_future *f = aio__alloc(loop, sizeof *f);
    if (f != NULL)
        aio__future_init(f, loop, &plain_future);
    return f;
}

aio_future *aio_future_ref(aio_future *f)
{
    f->refs++;
    return f;
}
static void free_callbacks(aio_loop *loop, struct aio_done_cb *cb)
{
    while (cb != NULL) {
        struct aio_done_cb *next = cb->next;
        if (cb->keep_arg)
            aio_future_unref(cb->arg);
        aio__handle_free(cb->h);       /* не понадобился */
        aio__free(loop, cb, sizeof *cb);
        cb = next;
    }
}

void aio_future_unref(aio_future *f)
{
    if (f == NULL || --f->refs > 0)
        return;
    aio_handle_cancel(f->timer);
    struct aio_done_cb *cbs = f->callbacks;
    f->callbacks = NULL;
    if (f->cls->destroy != NULL)
        f->cls->destroy(f);
    free_callbacks(f->loop, cbs);
    f->magic = 0;
    aio__free(f->loop, f, f->cls->size);
}
int aio_future_done(const aio_future *f)
{
    return f->state != AIO_PENDING;
}

int aio_future_cancelled(const aio_future *f)
{
    return f->state == AIO_CANCELLED;
}

int aio_future_outcome(aio_future *f, gen_value *value, gen_error *error)
{
    if (f->state == AIO_PENDING)
        return -EAGAIN;
    f->retrieved = 1;
    if (f->error.code != 0) {
        if (error != NULL)
            *error = f->error;
        return f->error.code;
    }
    if (value != NULL)
        *value = f->result;
    return 0;
}
static void run_done_cb(void *arg)
{
    struct aio_done_cb *cb = arg;
    aio_loop *loop = cb->fut->loop;
    cb->fn(cb->fut, cb->arg);
    aio_future_unref(cb->fut);
    if (cb->keep_arg)
        aio_future_unref(cb->arg);
    aio__free(loop, cb, sizeof *cb);
}

static void drop_done_cb(void *arg)  /* цикл закрыт: колбэк не выполнится */
{
    struct aio_done_cb *cb = arg;
    aio_loop *loop = cb->fut->loop;
    aio_future_unref(cb->fut);
    cb->next = NULL;
    free_callbacks(loop, cb);
}

static void schedule_one(aio_future *f, struct aio_done_cb *cb)
{
    aio_handle *h = cb->h;
    cb->h = NULL;                      /* теперь он у цикла */
    cb->fut = aio_future_ref(f);
    cb->next = NULL;
    aio__handle_soon(h, run_done_cb, drop_done_cb, cb);
}
static void schedule_callbacks(aio_future *f)
{
    TRACE(instant(TRACE_LOOP, f->cls->name, f->state == AIO_CANCELLED ? "cancelled" : "done"));
    aio_handle_cancel(f->timer);       /* таймер больше не нужен */
    f->timer = NULL;
    struct aio_done_cb *cb = f->callbacks;
    f->callbacks = NULL;
    while (cb != NULL) {
        struct aio_done_cb *next = cb->next;
        schedule_one(f, cb);
        cb = next;
    }
}
int aio_future_set_result(aio_future *f, gen_value value)
{
    if (f->state != AIO_PENDING)
        return -EINVAL;
    f->result = value;
    f->state = AIO_FINISHED;
    schedule_callbacks(f);
    return 0;
}

int aio_future_set_error(aio_future *f, const gen_error *error)
{
    if (f->state != AIO_PENDING || error->code == 0)
        return -EINVAL;
    f->error = *error;
    f->state = AIO_FINISHED;
    schedule_callbacks(f);
    return 0;
}
int aio__future_cancel_base(aio_future *f, const char *msg)
{
    if (f->state != AIO_PENDING)
        return 0;
    f->error = gen_err(AIO_ECANCELLED, "%s", msg != NULL ? msg : "cancelled");
    f->state = AIO_CANCELLED;
    schedule_callbacks(f);
    return 1;
}

int aio_future_cancel(aio_future *f, const char *msg)
{
    if (f->cls->cancel != NULL)
        return f->cls->cancel(f, msg);
    return aio__future_cancel_base(f, msg);
}
static int add_cb(aio_future *f, aio_done_callback *fn, void *arg, int keep)
{
    struct aio_done_cb *cb = aio__alloc(f->loop, sizeof *cb);
    if (cb == NULL)
        return -ENOMEM;
    cb->h = aio__handle_new(f->loop);
    if (cb->h == NULL) {
        aio__free(f->loop, cb, sizeof *cb);
        return -ENOMEM;
    }
    cb->fn = fn;
    cb->arg = arg;
    cb->keep_arg = keep;
    if (keep)
        aio_future_ref(arg);
    if (f->state != AIO_PENDING) {     /* уже завершён: в очередь сразу */
        schedule_one(f, cb);
        return 0;
    }
    struct aio_done_cb **tail = &f->callbacks;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = cb;
    return 0;
}

int aio_future_add_done_callback(aio_future *f, aio_done_callback *fn,
                                 void *arg)
{
    return add_cb(f, fn, arg, 0);
}

int aio__add_done_callback_ref(aio_future *f, aio_done_callback *fn,
                               aio_future *arg)
{
    return add_cb(f, fn, arg, 1);
}
int aio_future_remove_done_callback(aio_future *f, aio_done_callback *fn,
                                    void *arg)
{
    int removed = 0;
    struct aio_done_cb **p = &f->callbacks;
    while (*p != NULL) {
        struct aio_done_cb *cb = *p;
        if (cb->fn == fn && cb->arg == arg) {
            *p = cb->next;
            cb->next = NULL;
            free_callbacks(f->loop, cb);
            removed++;
        } else {
            p = &cb->next;
        }
    }
    return removed;
}
int aio__ready(aio_future *f, int take, gen_value *res, gen_error *err)
{
    if (f == NULL) {
        *err = gen_err(-ENOMEM, "await: out of memory");
        return 1;
    }
    if (f->state == AIO_PENDING)
        return 0;
    err->code = 0;
    aio_future_outcome(f, res, err);
    if (take)
        aio_future_unref(f);
    return 1;
}
