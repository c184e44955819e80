/* Future, Task, await, sleep, gather, wait_for, cancellation (lib/aio.h,
 * chapter 8). Each test checks one rule that a plausible wrong
 * implementation would break. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aio.h"
#include "support.h"

enum { MY_ERROR = 42 };

static void note_done(aio_future *f, void *arg)
{
    sup_note("%s:%s ", (const char *)arg,
         aio_future_cancelled(f) ? "cancelled" : aio_future_done(f) ? "done" : "pending");
}

/* ---- Future ---- */

static void test_done_callback_never_runs_inline(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    assert_int_equal(aio_future_add_done_callback(f, note_done, "cb"), 0);
    assert_int_equal(aio_future_set_result(f, gen_int(7)), 0);
    assert_string_equal(sup_trace(), ""); /* not from inside set_result */
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "cb:done ");
    /* added after completion: scheduled, still not inline */
    assert_int_equal(aio_future_add_done_callback(f, note_done, "late"), 0);
    assert_string_equal(sup_trace(), "cb:done ");
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "cb:done late:done ");
    aio_future_unref(f);
}

static void test_result_and_error_are_kept(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop), *g = aio_future_new(loop);
    gen_value v;
    gen_error e;
    assert_int_equal(aio_future_outcome(f, &v, &e), -EAGAIN); /* pending */
    aio_future_set_result(f, gen_int(5));
    assert_int_equal(aio_future_outcome(f, &v, &e), 0);
    assert_int_equal(v.i, 5);
    gen_error boom = gen_err(MY_ERROR, "boom");
    assert_int_equal(aio_future_set_error(g, &boom), 0);
    assert_int_equal(aio_future_outcome(g, &v, &e), MY_ERROR);
    assert_string_equal(e.msg, "boom");
    assert_false(aio_future_cancelled(g));
    aio_future_unref(f);
    aio_future_unref(g);
}

static void test_set_twice_is_an_error(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    assert_int_equal(aio_future_set_result(f, gen_int(1)), 0);
    assert_int_equal(aio_future_set_result(f, gen_int(2)), -EINVAL);
    gen_error e = gen_err(MY_ERROR, "late");
    assert_int_equal(aio_future_set_error(f, &e), -EINVAL);
    assert_int_equal(aio_future_cancel(f, NULL), 0);
    gen_value v;
    aio_future_outcome(f, &v, NULL);
    assert_int_equal(v.i, 1); /* the first one stays */
    aio_future_unref(f);
}

static void test_cancel_future(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    aio_future_add_done_callback(f, note_done, "cb");
    assert_int_equal(aio_future_cancel(f, "why"), 1);
    assert_true(aio_future_cancelled(f));
    assert_true(aio_future_done(f));
    gen_error e;
    assert_int_equal(aio_future_outcome(f, NULL, &e), AIO_ECANCELLED);
    assert_string_equal(e.msg, "why");
    assert_int_equal(aio_future_set_result(f, gen_none()), -EINVAL);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "cb:cancelled ");
    aio_future_unref(f);
}

static void test_removed_callback_does_not_run(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    aio_future_add_done_callback(f, note_done, "a");
    aio_future_add_done_callback(f, note_done, "b");
    aio_future_add_done_callback(f, note_done, "a");
    assert_int_equal(aio_future_remove_done_callback(f, note_done, "a"), 2);
    aio_future_set_result(f, gen_none());
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "b:done ");
    aio_future_unref(f);
}

static void test_callbacks_run_in_order_added(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    aio_future_add_done_callback(f, note_done, "1");
    aio_future_add_done_callback(f, note_done, "2");
    aio_future_add_done_callback(f, note_done, "3");
    aio_future_set_result(f, gen_none());
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "1:done 2:done 3:done ");
    aio_future_unref(f);
}

static void test_future_freed_with_callback_in_queue(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    aio_future_add_done_callback(f, note_done, "cb");
    aio_future_set_result(f, gen_none());
    aio_future_unref(f); /* the queued callback holds its own reference */
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "cb:done ");
}

/* the loop freed while a done callback waits in the queue: it never runs,
   and what it held is let go (LeakSanitizer) */
static void test_loop_freed_with_callback_in_queue(void **state)
{
    (void)state;
    aio_loop *loop;
    assert_int_equal(aio_loop_new(&loop), 0);
    aio_future *f = aio_future_new(loop);
    assert_int_equal(aio_future_add_done_callback(f, note_done, "cb"), 0);
    assert_int_equal(aio_future_set_result(f, gen_none()), 0);
    aio_future_unref(f);
    aio_loop_free(loop);
    assert_string_equal(sup_trace(), "");
}

/* ---- Task and await ---- */

struct waiter { aio_future *fut; gen_value res; gen_error err; const char *name; };

static int waiter_body(gen *g)
{
    struct waiter *f = gen_locals(g);
    GEN_BEGIN(g);
    sup_note("%s:start ", f->name);
    AIO_AWAIT(g, f->res, f->fut);
    sup_note("%s:got:%lld ", f->name, f->res.i);
    GEN_RETURN(g, gen_int(f->res.i * 10));
    GEN_FINALLY(g);
    sup_note("%s:finally ", f->name);
    GEN_END(g);
}

static gen *waiter(aio_future *fut, const char *name)
{
    return gen_new(waiter_body, &(struct waiter){.fut = fut, .name = name},
                   sizeof(struct waiter));
}

static void test_task_does_not_start_inline(void **state)
{
    aio_loop *loop = *state;
    aio_future *fut = aio_future_new(loop);
    aio_future *t = aio_create_task(loop, waiter(fut, "w"));
    assert_non_null(t);
    assert_string_equal(sup_trace(), "");
    assert_int_equal(aio_pending_tasks(loop), 1);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "w:start ");
    aio_future_set_result(fut, gen_int(4));
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_string_equal(sup_trace(), "w:start w:got:4 w:finally ");
    gen_value v;
    assert_int_equal(aio_future_outcome(t, &v, NULL), 0);
    assert_int_equal(v.i, 40);
    assert_int_equal(aio_pending_tasks(loop), 0);
    aio_future_unref(t);
    aio_future_unref(fut);
}

static void test_await_done_future_loses_no_iteration(void **state)
{
    aio_loop *loop = *state;
    aio_future *fut = aio_future_new(loop);
    aio_future_set_result(fut, gen_int(3));
    aio_future *t = aio_create_task(loop, waiter(fut, "w"));
    aio_loop_run_once(loop); /* one iteration: start, await, go on, finish */
    assert_string_equal(sup_trace(), "w:start w:got:3 w:finally ");
    assert_true(aio_future_done(t));
    aio_future_unref(t);
    aio_future_unref(fut);
}

static void test_await_pending_future_parks_until_done(void **state)
{
    aio_loop *loop = *state;
    aio_future *fut = aio_future_new(loop);
    aio_future *t = aio_create_task(loop, waiter(fut, "w"));
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "w:start ");
    assert_false(aio_future_done(t));
    aio_future_set_result(fut, gen_int(1));
    aio_loop_run_once(loop); /* the wakeup callback runs the next step */
    assert_string_equal(sup_trace(), "w:start w:got:1 w:finally ");
    aio_future_unref(t);
    aio_future_unref(fut);
}

static void test_error_in_awaited_future_raises_in_coroutine(void **state)
{
    aio_loop *loop = *state;
    aio_future *fut = aio_future_new(loop);
    aio_future *t = aio_create_task(loop, waiter(fut, "w"));
    aio_loop_run_once(loop);
    gen_error boom = gen_err(MY_ERROR, "boom");
    aio_future_set_error(fut, &boom);
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_string_equal(sup_trace(), "w:start w:finally "); /* no "got" */
    gen_error e;
    assert_int_equal(aio_future_outcome(t, NULL, &e), MY_ERROR);
    assert_string_equal(e.msg, "boom");
    aio_future_unref(t);
    aio_future_unref(fut);
}

/* an awaiter of a task: the task's error surfaces here */
struct catcher { aio_future *task; gen_value res; gen_error err; };

static int catcher_body(gen *g)
{
    struct catcher *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_CATCH(g, f->res, f->err, f->task);
    sup_note("caught:%d:%s ", f->err.code, f->err.msg);
    GEN_RETURN(g, gen_int(f->err.code));
    GEN_END(g);
}

struct failer { aio_loop *loop; gen_value r; };

static int failer_body(gen *g)
{
    struct failer *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0.001));
    GEN_RAISE(g, MY_ERROR, "failed in task");
    GEN_END(g);
}

static void test_error_in_task_surfaces_in_its_awaiter(void **state)
{
    aio_loop *loop = *state;
    aio_future *inner = aio_create_task(
        loop, gen_new(failer_body, &(struct failer){loop, {0}}, sizeof(struct failer)));
    aio_future *outer = aio_create_task(
        loop, gen_new(catcher_body, &(struct catcher){.task = inner}, sizeof(struct catcher)));
    assert_int_equal(aio_loop_run_until_complete(loop, outer), 0);
    assert_string_equal(sup_trace(), "caught:42:failed in task ");
    gen_value v;
    assert_int_equal(aio_future_outcome(outer, &v, NULL), 0);
    assert_int_equal(v.i, MY_ERROR);
    aio_future_unref(outer);
    aio_future_unref(inner);
}

static void stop_after_guard(void *arg)
{
    aio_loop_stop(arg);
}

struct selfish { aio_loop *loop; aio_future *me; gen_value res; gen_error err; };

static int selfish_body(gen *g)
{
    struct selfish *f = gen_locals(g);
    GEN_BEGIN(g);
    f->me = aio_current_task(f->loop);
    AIO_AWAIT_CATCH(g, f->res, f->err, f->me);
    GEN_RETURN(g, gen_int(f->err.code));
    GEN_END(g);
}

static void test_task_cannot_await_itself(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = aio_create_task(
        loop, gen_new(selfish_body, &(struct selfish){.loop = loop}, sizeof(struct selfish)));
    /* a guard: a task that really waits for itself would hang the suite */
    aio_handle *guard = aio_call_later(loop, 5.0, stop_after_guard, loop);
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    aio_handle_cancel(guard);
    gen_value v;
    assert_int_equal(aio_future_outcome(t, &v, NULL), 0);
    assert_int_equal(v.i, -EDEADLK);
    aio_future_unref(t);
}

static int bad_yield_body(gen *g)
{
    gen_error *e = gen_locals(g);
    GEN_BEGIN(g);
    GEN_YIELD_CATCH(g, gen_int(5), *e);
    GEN_RETURN(g, gen_int(e->code));
    GEN_END(g);
}

static void test_yielding_a_non_future_is_an_error(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = aio_create_task(loop, gen_new(bad_yield_body, NULL, sizeof(gen_error)));
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    gen_value v;
    aio_future_outcome(t, &v, NULL);
    assert_int_equal(v.i, -EINVAL);
    aio_future_unref(t);
}

/* await a coroutine directly: yield from */
struct outer_coro { aio_loop *loop; gen *sub; aio_future *fut; gen_value res; };

static int outer_coro_body(gen *g)
{
    struct outer_coro *f = gen_locals(g);
    GEN_BEGIN(g);
    f->sub = waiter(f->fut, "sub");
    AIO_AWAIT_CORO(g, f->res, f->sub);
    sup_note("outer:got:%lld ", f->res.i);
    GEN_RETURN(g, f->res);
    GEN_FINALLY(g);
    gen_free(f->sub);
    GEN_END(g);
}

static void test_await_coroutine_runs_it_inside_the_task(void **state)
{
    aio_loop *loop = *state;
    aio_future *fut = aio_future_new(loop);
    aio_future *t = aio_create_task(
        loop, gen_new(outer_coro_body, &(struct outer_coro){.loop = loop, .fut = fut},
                      sizeof(struct outer_coro)));
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "sub:start ");
    assert_int_equal(aio_pending_tasks(loop), 1); /* one task, two coroutines */
    aio_future_set_result(fut, gen_int(6));
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_string_equal(sup_trace(), "sub:start sub:got:6 sub:finally outer:got:60 ");
    aio_future_unref(t);
    aio_future_unref(fut);
}

/* ---- sleep and cancellation ---- */

struct sleeper { aio_loop *loop; double delay; gen_value r; gen_error err; int catch_it; };

static int sleeper_body(gen *g)
{
    struct sleeper *f = gen_locals(g);
    GEN_BEGIN(g);
    sup_note("sleep ");
    if (f->catch_it) {
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sleep(f->loop, f->delay));
        sup_note("woke:%d ", f->err.code);
        GEN_RETURN(g, gen_str("cleaned up"));
    }
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, f->delay));
    sup_note("woke ");
    GEN_FINALLY(g);
    sup_note("finally ");
    GEN_END(g);
}

static aio_future *sleeper(aio_loop *loop, double delay, int catch_it)
{
    return aio_create_task(loop, gen_new(sleeper_body,
                                         &(struct sleeper){.loop = loop, .delay = delay,
                                                           .catch_it = catch_it},
                                         sizeof(struct sleeper)));
}

static void test_sleep_waits_at_least_the_delay(void **state)
{
    aio_loop *loop = *state;
    double start = aio_time(loop);
    aio_future *t = sleeper(loop, 0.05, 0);
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_true(aio_time(loop) - start >= 0.05);
    assert_string_equal(sup_trace(), "sleep woke finally ");
    aio_future_unref(t);
}

static void test_cancel_sleeping_task_delivers_at_its_await(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = sleeper(loop, 100.0, 0);
    aio_loop_run_once(loop);
    assert_int_equal(aio_future_cancel(t, "stop"), 1);
    assert_false(aio_future_done(t)); /* delivered later, inside the task */
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_true(aio_future_cancelled(t));
    assert_string_equal(sup_trace(), "sleep finally ");
    aio_future_unref(t);
}

static void test_cancellation_can_be_caught(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = sleeper(loop, 100.0, 1);
    aio_loop_run_once(loop);
    aio_future_cancel(t, NULL);
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_false(aio_future_cancelled(t)); /* it caught it and returned */
    gen_value v;
    assert_int_equal(aio_future_outcome(t, &v, NULL), 0);
    assert_string_equal(v.s, "cleaned up");
    char want[64];
    snprintf(want, sizeof want, "sleep woke:%d finally ", AIO_ECANCELLED);
    assert_string_equal(sup_trace(), want);
    aio_future_unref(t);
}

static void test_cancel_before_first_step(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = sleeper(loop, 100.0, 0);
    assert_int_equal(aio_future_cancel(t, NULL), 1);
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_true(aio_future_cancelled(t));
    assert_string_equal(sup_trace(), ""); /* the body never started */
    aio_future_unref(t);
}

/* The same rule, bounded: a body that awaits nothing. Cancelled before its
 * first step, it must be finished by that step without ever running, and the
 * cancellation must reach the task through the coroutine (a task marked
 * cancelled from outside would still run its body). */
static int noter_body(gen *g)
{
    GEN_BEGIN(g);
    sup_note("ran ");
    GEN_RETURN(g, gen_int(1));
    GEN_END(g);
}

static void test_cancel_before_first_step_body_never_runs(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = aio_create_task(loop, gen_new(noter_body, NULL, 1));
    assert_int_equal(aio_future_cancel(t, "early"), 1);
    assert_false(aio_future_done(t)); /* delivered in the first step */
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "");
    assert_true(aio_future_cancelled(t));
    aio_future_unref(t);
}

static void test_cancel_done_task_is_refused(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = sleeper(loop, 0.0, 0);
    aio_loop_run_until_complete(loop, t);
    assert_int_equal(aio_future_cancel(t, NULL), 0);
    assert_false(aio_future_cancelled(t));
    aio_future_unref(t);
}

/* ---- gather ---- */

struct valuer { aio_loop *loop; double delay; long long value; gen_value r; };

static int valuer_body(gen *g)
{
    struct valuer *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, f->delay));
    if (f->value < 0)
        GEN_RAISE(g, MY_ERROR, "value %lld", f->value);
    sup_note("v%lld ", f->value);
    GEN_RETURN(g, gen_int(f->value));
    GEN_FINALLY(g);
    GEN_END(g);
}

static aio_future *valuer(aio_loop *loop, double delay, long long value)
{
    return aio_create_task(loop, gen_new(valuer_body,
                                         &(struct valuer){loop, delay, value, {0}},
                                         sizeof(struct valuer)));
}

static void test_gather_results_in_argument_order(void **state)
{
    aio_loop *loop = *state;
    aio_future *ts[3] = {valuer(loop, 0.03, 1), valuer(loop, 0.01, 2), valuer(loop, 0.02, 3)};
    aio_future *all = aio_gather(loop, ts, 3);
    assert_int_equal(aio_loop_run_until_complete(loop, all), 0);
    assert_string_equal(sup_trace(), "v2 v3 v1 "); /* finished in time order */
    gen_value v;
    assert_int_equal(aio_future_outcome(all, &v, NULL), 0);
    gen_value *res = v.p;
    assert_int_equal(res[0].i, 1); /* reported in argument order */
    assert_int_equal(res[1].i, 2);
    assert_int_equal(res[2].i, 3);
    aio_future_unref(all);
    for (int i = 0; i < 3; i++)
        aio_future_unref(ts[i]);
}

/* a Future of another loop: its callbacks would never run in ours */
struct stranger { aio_future *other; gen_value r; gen_error err; };

static int stranger_body(gen *g)
{
    struct stranger *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_CATCH(g, f->r, f->err, f->other);
    sup_note("err:%d ", f->err.code);
    GEN_END(g);
}

static void test_task_cannot_await_another_loops_future(void **state)
{
    aio_loop *loop = *state, *other;
    assert_int_equal(aio_loop_new(&other), 0);
    struct stranger s = {aio_future_new(other), {0}, {0}};
    aio_future *t = aio_create_task(loop, gen_new(stranger_body, &s, sizeof s));
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_string_equal(sup_trace(), "err:-18 ");    /* -EXDEV */
    aio_future_unref(t);
    aio_future_unref(s.other);
    aio_loop_free(other);
}

/* children that catch the cancellation and return: gather is still cancelled */
static void test_cancelled_gather_stays_cancelled_when_children_return(void **state)
{
    aio_loop *loop = *state;
    aio_future *ts[2] = {sleeper(loop, 100.0, 1), sleeper(loop, 100.0, 1)};
    aio_future *all = aio_gather(loop, ts, 2);
    assert_int_equal(aio_loop_run_once(loop), 0);
    assert_int_equal(aio_future_cancel(all, NULL), 1);
    assert_int_equal(aio_loop_run_until_complete(loop, all), 0);
    assert_int_equal(aio_future_outcome(all, NULL, NULL), AIO_ECANCELLED);
    gen_value v;
    assert_int_equal(aio_future_outcome(ts[0], &v, NULL), 0);   /* they returned */
    assert_string_equal(v.s, "cleaned up");
    assert_int_equal(aio_future_cancel(all, NULL), 0);   /* done: too late */
    aio_future_unref(all);
    aio_future_unref(ts[0]);
    aio_future_unref(ts[1]);
}

/* the loop stopped by someone else first: run_until_complete says -EINTR */
static void stop_it(void *arg) { aio_loop_stop(arg); }

static void test_run_until_complete_stopped_early_is_eintr(void **state)
{
    aio_loop *loop = *state;
    aio_future *f = aio_future_new(loop);
    aio_call_soon(loop, stop_it, loop);
    assert_int_equal(aio_loop_run_until_complete(loop, f), -EINTR);
    assert_false(aio_future_done(f));
    aio_future_unref(f);
}

/* a task that failed and was let go without anyone looking at its
   outcome says so on stderr when it is freed (Python: "Task exception
   was never retrieved") */
struct raiser { int unused; };

static int raiser_body(gen *g)
{
    GEN_BEGIN(g);
    GEN_RAISE(g, -EIO, "boom");
    GEN_END(g);
}

static void test_unawaited_failed_task_is_reported(void **state)
{
    aio_loop *loop = *state;
    char path[256];
    sup_tmp_path(path, sizeof path, "stderr");
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    aio_future *t = aio_create_task(loop, gen_new(raiser_body, &(struct raiser){0},
                                                  sizeof(struct raiser)));
    assert_non_null(t);
    aio_future_unref(t);                  /* nobody will look at its outcome */
    while (aio_pending_tasks(loop) > 0)
        assert_int_equal(aio_loop_run_once(loop), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *out = sup_read_file(path);
    assert_non_null(out);
    assert_non_null(strstr(out, "aio: task failed and nobody awaited it: boom\n"));
    free(out);
    unlink(path);
}

/* a task that cancels itself during its step: the next await raises
   CancelledError at once, the Future it parked on is cancelled */
struct self_cancel { aio_loop *loop; gen_value r; gen_error err; };

static int self_cancel_body(gen *g)
{
    struct self_cancel *f = gen_locals(g);
    GEN_BEGIN(g);
    assert_int_equal(aio_future_cancel(aio_current_task(f->loop), "myself"), 1);
    AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sleep(f->loop, 100.0));
    sup_note("err:%d ", f->err.code);
    GEN_END(g);
}

static void test_task_cancelled_during_its_step_cancels_its_next_await(void **state)
{
    aio_loop *loop = *state;
    struct self_cancel s = {loop, {0}, {0}};
    aio_future *t = aio_create_task(loop, gen_new(self_cancel_body, &s, sizeof s));
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_string_equal(sup_trace(), "err:-125 ");    /* AIO_ECANCELLED */
    aio_future_unref(t);
}

static void test_gather_of_nothing_is_done(void **state)
{
    aio_loop *loop = *state;
    aio_future *all = aio_gather(loop, NULL, 0);
    assert_non_null(all);
    assert_true(aio_future_done(all));
    gen_value v;
    assert_int_equal(aio_future_outcome(all, &v, NULL), 0);
    assert_int_equal(v.kind, GEN_PTR);
    aio_future_unref(all);
}

static void test_gather_reports_first_error(void **state)
{
    aio_loop *loop = *state;
    aio_future *ts[3] = {valuer(loop, 0.03, 1), valuer(loop, 0.01, -1), valuer(loop, 0.02, -2)};
    aio_future *all = aio_gather(loop, ts, 3);
    assert_int_equal(aio_loop_run_until_complete(loop, all), 0);
    gen_error e;
    assert_int_equal(aio_future_outcome(all, NULL, &e), MY_ERROR);
    assert_string_equal(e.msg, "value -1");
    assert_false(aio_future_done(ts[0])); /* the others go on */
    aio_loop_run_until_complete(loop, ts[0]);
    aio_future_outcome(ts[2], NULL, NULL); /* retrieved: no report */
    aio_future_unref(all);
    for (int i = 0; i < 3; i++)
        aio_future_unref(ts[i]);
}

static void test_cancel_gather_cancels_children(void **state)
{
    aio_loop *loop = *state;
    aio_future *ts[2] = {sleeper(loop, 100.0, 0), sleeper(loop, 100.0, 0)};
    aio_future *all = aio_gather(loop, ts, 2);
    aio_loop_run_once(loop);
    assert_int_equal(aio_future_cancel(all, NULL), 1);
    assert_int_equal(aio_loop_run_until_complete(loop, all), 0);
    assert_true(aio_future_cancelled(ts[0]));
    assert_true(aio_future_cancelled(ts[1]));
    assert_int_equal(aio_future_outcome(all, NULL, NULL), AIO_ECANCELLED);
    assert_string_equal(sup_trace(), "sleep sleep finally finally ");
    aio_future_unref(all);
    aio_future_unref(ts[0]);
    aio_future_unref(ts[1]);
}

/* cancelling a task that awaits gather reaches the children */
struct gatherer { aio_future *all; gen_value r; };

static int gatherer_body(gen *g)
{
    struct gatherer *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT(g, f->r, f->all);
    sup_note("unreachable ");
    GEN_END(g);
}

static void test_cancel_propagates_through_gather(void **state)
{
    aio_loop *loop = *state;
    aio_future *ts[2] = {sleeper(loop, 100.0, 0), sleeper(loop, 100.0, 0)};
    aio_future *all = aio_gather(loop, ts, 2);
    aio_future *main = aio_create_task(
        loop, gen_new(gatherer_body, &(struct gatherer){all, {0}}, sizeof(struct gatherer)));
    aio_loop_run_once(loop);
    aio_future_cancel(main, NULL);
    assert_int_equal(aio_loop_run_until_complete(loop, main), 0);
    assert_true(aio_future_cancelled(main));
    assert_true(aio_future_cancelled(ts[0]));
    assert_true(aio_future_cancelled(ts[1]));
    aio_future_unref(main);
    aio_future_unref(all);
    aio_future_unref(ts[0]);
    aio_future_unref(ts[1]);
}

/* ---- wait_for ---- */

static void test_wait_for_times_out_and_cancels_inner(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = sleeper(loop, 100.0, 0);
    aio_future *w = aio_wait_for(loop, t, 0.02);
    assert_int_equal(aio_loop_run_until_complete(loop, w), 0);
    assert_int_equal(aio_future_outcome(w, NULL, NULL), AIO_ETIMEDOUT);
    assert_true(aio_future_cancelled(t));
    aio_future_unref(w);
    aio_future_unref(t);
}

static void test_cancelling_wait_for_cancels_inner(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = sleeper(loop, 100.0, 0);
    aio_future *w = aio_wait_for(loop, t, 100.0);
    assert_int_equal(aio_loop_run_once(loop), 0);   /* the sleeper parks */
    assert_int_equal(aio_future_cancel(w, "enough"), 1);
    assert_int_equal(aio_loop_run_until_complete(loop, w), 0);
    assert_int_equal(aio_future_outcome(w, NULL, NULL), AIO_ECANCELLED);
    assert_int_equal(aio_loop_run_until_complete(loop, t), 0);
    assert_true(aio_future_cancelled(t));
    assert_string_equal(sup_trace(), "sleep finally ");
    assert_int_equal(aio_future_cancel(w, "again"), 0);   /* done: too late */
    aio_future_unref(w);
    aio_future_unref(t);
}

static void test_wait_for_passes_result_in_time(void **state)
{
    aio_loop *loop = *state;
    aio_future *t = valuer(loop, 0.0, 9);
    aio_future *w = aio_wait_for(loop, t, 10.0);
    assert_int_equal(aio_loop_run_until_complete(loop, w), 0);
    gen_value v;
    assert_int_equal(aio_future_outcome(w, &v, NULL), 0);
    assert_int_equal(v.i, 9);
    aio_future_unref(w);
    aio_future_unref(t);
}

/* ---- the whole program: aio_run, and shutdown frees everything ---- */

struct runner { aio_loop *loop; aio_future *bg; gen_value r; };

static int runner_body(gen *g)
{
    struct runner *f = gen_locals(g);
    GEN_BEGIN(g);
    f->bg = sleeper(f->loop, 100.0, 0); /* left behind on purpose */
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0.01));
    GEN_RETURN(g, gen_int(77));
    GEN_FINALLY(g);
    aio_future_unref(f->bg);
    GEN_END(g);
}

static void test_run_returns_main_result_and_cancels_the_rest(void **state)
{
    aio_loop *loop = *state;
    gen_result r;
    assert_int_equal(aio_run(loop, gen_new(runner_body, &(struct runner){.loop = loop},
                                           sizeof(struct runner)), &r), 0);
    assert_int_equal(r.status, GEN_RETURNED);
    assert_int_equal(r.value.i, 77);
    assert_int_equal(aio_pending_tasks(loop), 0);
    assert_string_equal(sup_trace(), "sleep finally "); /* background task cancelled */
}

static void test_loop_free_closes_unfinished_tasks(void **state)
{
    (void)state;
    aio_loop *loop;
    assert_int_equal(aio_loop_new(&loop), 0);
    aio_future *t = sleeper(loop, 100.0, 0);
    aio_future_unref(t);
    aio_loop_run_once(loop);
    aio_loop_free(loop); /* LeakSanitizer: task, coroutine, sleep future, timer */
    assert_string_equal(sup_trace(), "sleep finally ");
}

/* a task that catches its cancellation and goes on waiting: the loop's
   shutdown must not wait for it forever (aio_loop_shutdown's contract);
   aio_loop_free closes its coroutine */
struct stubborn { aio_loop *loop; gen_value r; gen_error err; };

static int stubborn_body(gen *g)
{
    struct stubborn *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_future_new(f->loop));
    sup_note("caught:%d ", f->err.code);
    /* and waits on, for a Future nobody will complete */
    AIO_AWAIT_NEW(g, f->r, aio_future_new(f->loop));
    sup_note("woke ");
    GEN_FINALLY(g);
    sup_note("finally ");
    GEN_END(g);
}

static void test_loop_free_closes_a_task_that_ignores_cancellation(void **state)
{
    (void)state;
    aio_loop *loop;
    assert_int_equal(aio_loop_new(&loop), 0);
    struct stubborn s = {loop, {0}, {0}};
    aio_future *t = aio_create_task(loop, gen_new(stubborn_body, &s, sizeof s));
    assert_non_null(t);
    aio_future_unref(t);
    assert_int_equal(aio_loop_run_once(loop), 0);
    assert_int_equal(aio_pending_tasks(loop), 1);
    alarm(10);                           /* a hang fails the test */
    aio_loop_free(loop);                 /* LeakSanitizer: task, coroutine */
    alarm(0);
    assert_string_equal(sup_trace(), "caught:-125 finally ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, sup_loop_setup, sup_loop_teardown)
        T(test_done_callback_never_runs_inline),
        T(test_result_and_error_are_kept),
        T(test_set_twice_is_an_error),
        T(test_cancel_future),
        T(test_removed_callback_does_not_run),
        T(test_callbacks_run_in_order_added),
        T(test_future_freed_with_callback_in_queue),
        T(test_loop_freed_with_callback_in_queue),
        T(test_task_does_not_start_inline),
        T(test_await_done_future_loses_no_iteration),
        T(test_await_pending_future_parks_until_done),
        T(test_error_in_awaited_future_raises_in_coroutine),
        T(test_error_in_task_surfaces_in_its_awaiter),
        T(test_task_cannot_await_itself),
        T(test_yielding_a_non_future_is_an_error),
        T(test_await_coroutine_runs_it_inside_the_task),
        T(test_sleep_waits_at_least_the_delay),
        T(test_cancel_sleeping_task_delivers_at_its_await),
        T(test_cancellation_can_be_caught),
        T(test_cancel_before_first_step),
        T(test_cancel_before_first_step_body_never_runs),
        T(test_cancel_done_task_is_refused),
        T(test_gather_results_in_argument_order),
        T(test_gather_of_nothing_is_done),
        T(test_task_cannot_await_another_loops_future),
        T(test_cancelled_gather_stays_cancelled_when_children_return),
        T(test_run_until_complete_stopped_early_is_eintr),
        T(test_unawaited_failed_task_is_reported),
        T(test_task_cancelled_during_its_step_cancels_its_next_await),
        T(test_gather_reports_first_error),
        T(test_cancel_gather_cancels_children),
        T(test_cancel_propagates_through_gather),
        T(test_wait_for_times_out_and_cancels_inner),
        T(test_wait_for_passes_result_in_time),
        T(test_cancelling_wait_for_cancels_inner),
        T(test_run_returns_main_result_and_cancels_the_rest),
        T(test_loop_free_closes_unfinished_tasks),
        T(test_loop_free_closes_a_task_that_ignores_cancellation),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
