/* Semantics of the generators of chapters 5-7 (lib/gen.h): one test per rule.
 * The rules are Python's (PEP 255, 342, 380, 479) as adapted in the book. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gen.h"
#include "net.h"
#include "support.h"

enum { MY_ERROR = 42, OTHER_ERROR = 43 };

static int reset_trace(void **state)
{
    (void)state;
    sup_trace_reset();
    return 0;
}

/* ---- generator bodies used by the tests ---- */

/* counts from n down to 1, returns "done"; notes start and finally */
struct countdown { int n; };

static int countdown_body(gen *g)
{
    struct countdown *f = gen_locals(g);
    GEN_BEGIN(g);
    sup_note("start ");
    while (f->n > 0) {
        GEN_YIELD(g, gen_int(f->n));
        f->n--;
    }
    GEN_RETURN(g, gen_str("done"));
    GEN_FINALLY(g);
    sup_note("finally ");
    GEN_END(g);
}

static gen *countdown(int n)
{
    return gen_new(countdown_body, &(struct countdown){n}, sizeof(struct countdown));
}

/* echoes back what it receives: yield received, forever */
static int echo_body(gen *g)
{
    GEN_BEGIN(g);
    for (;;)
        GEN_YIELD(g, gen_received(g));
    GEN_END(g);
}

/* catches MY_ERROR: mode 0 yields -1 after it, mode 1 returns -2; other errors propagate */
struct catcher { int mode; gen_error e; };

static int catcher_body(gen *g)
{
    struct catcher *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        GEN_YIELD_CATCH(g, gen_int(1), f->e);
        if (f->e.code == 0)
            continue;
        if (f->e.code != MY_ERROR)
            GEN_RAISE_ERR(g, f->e);
        sup_note("caught:%s ", f->e.msg);
        if (f->mode == 1)
            GEN_RETURN(g, gen_int(-2));
        GEN_YIELD(g, gen_int(-1));
    }
    GEN_FINALLY(g);
    sup_note("finally ");
    GEN_END(g);
}

static gen *catcher(int mode)
{
    return gen_new(catcher_body, &(struct catcher){.mode = mode}, sizeof(struct catcher));
}

/* catches everything, GEN_EXIT included; what it does then depends on mode */
enum { STUBBORN_YIELD, STUBBORN_RETURN, STUBBORN_RAISE };
struct stubborn { int mode; int times; gen_error e; };

static int stubborn_body(gen *g)
{
    struct stubborn *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        GEN_YIELD_CATCH(g, gen_int(f->times), f->e);
        if (f->e.code != GEN_EXIT)
            continue;
        f->times++;
        if (f->mode == STUBBORN_RETURN || f->times > 1)
            GEN_RETURN(g, gen_int(99));
        if (f->mode == STUBBORN_RAISE)
            GEN_RAISE(g, OTHER_ERROR, "refusing to close");
    }
    GEN_END(g);
}

static gen *stubborn(int mode)
{
    return gen_new(stubborn_body, &(struct stubborn){.mode = mode}, sizeof(struct stubborn));
}

/* ---- 1. creation, next, locals, return ---- */

static void test_created_does_not_run_body(void **state)
{
    (void)state;
    gen *g = countdown(2);
    assert_non_null(g);
    assert_int_equal(gen_get_state(g), GEN_CREATED);
    assert_string_equal(sup_trace(), "");
    gen_free(g);
    assert_string_equal(sup_trace(), ""); /* freeing a created one runs nothing */
}

static void test_next_yields_in_order_keeping_locals(void **state)
{
    (void)state;
    gen *g = countdown(3);
    gen_result r;
    for (int want = 3; want >= 1; want--) {
        assert_int_equal(gen_next(g, &r), GEN_YIELDED);
        assert_int_equal(r.value.kind, GEN_INT);
        assert_int_equal(r.value.i, want);
        assert_int_equal(gen_get_state(g), GEN_SUSPENDED);
    }
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    gen_free(g);
}

static void test_return_value_comes_with_returned(void **state)
{
    (void)state;
    gen *g = countdown(1);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    assert_int_equal(r.status, GEN_RETURNED);
    assert_int_equal(r.value.kind, GEN_STR);
    assert_string_equal(r.value.s, "done");
    gen_free(g);
}

static void test_finally_runs_on_normal_end(void **state)
{
    (void)state;
    gen *g = countdown(1);
    while (gen_next(g, NULL) == GEN_YIELDED)
        ;
    assert_string_equal(sup_trace(), "start finally ");
    gen_free(g);
    assert_string_equal(sup_trace(), "start finally "); /* not twice */
}

static int once_body(gen *g)
{
    GEN_BEGIN(g);
    GEN_YIELD(g, gen_int(1));
    GEN_END(g); /* falls off the end: no GEN_RETURN */
}

static void test_end_without_return_gives_none(void **state)
{
    (void)state;
    gen *g = gen_new(once_body, NULL, 0);
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_YIELDED);
    r.value = gen_int(5);
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    assert_int_equal(r.value.kind, GEN_NONE);
    gen_free(g);
}

static void test_after_stop_every_resume_reports_stopped(void **state)
{
    (void)state;
    gen *g = countdown(0);
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gen_next(g, &r), GEN_RETURNED);
        assert_int_equal(r.value.kind, GEN_NONE);
        assert_int_equal(gen_send(g, gen_int(5), &r), GEN_RETURNED);
        assert_int_equal(r.value.kind, GEN_NONE);
    }
    assert_string_equal(sup_trace(), "start finally ");
    gen_free(g);
}

/* ---- 2. send ---- */

static void test_send_to_created_is_refused(void **state)
{
    (void)state;
    gen *g = gen_new(echo_body, NULL, 0);
    gen_result r;
    assert_int_equal(gen_send(g, gen_int(1), &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_ESENDNEW);
    assert_int_equal(gen_get_state(g), GEN_CREATED); /* untouched */
    assert_int_equal(gen_next(g, &r), GEN_YIELDED);
    gen_free(g);
}

static void test_send_none_to_created_is_next(void **state)
{
    (void)state;
    gen *g = countdown(2);
    gen_result r;
    assert_int_equal(gen_send(g, gen_none(), &r), GEN_YIELDED);
    assert_int_equal(r.value.i, 2);
    gen_free(g);
}

static void test_send_value_is_received_at_yield(void **state)
{
    (void)state;
    gen *g = gen_new(echo_body, NULL, 0);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_send(g, gen_str("hi"), &r), GEN_YIELDED);
    assert_string_equal(r.value.s, "hi");
    assert_int_equal(gen_send(g, gen_double(2.5), &r), GEN_YIELDED);
    assert_true(r.value.d == 2.5);
    assert_int_equal(gen_next(g, &r), GEN_YIELDED); /* next = send(none) */
    assert_int_equal(r.value.kind, GEN_NONE);
    gen_free(g);
}

/* ---- 3. running ---- */

struct selfish { gen_status seen; int code; gen_state state_inside; };

static int selfish_body(gen *g)
{
    struct selfish *f = gen_locals(g);
    gen_result r;
    GEN_BEGIN(g);
    f->state_inside = gen_get_state(g);
    f->seen = gen_next(g, &r);
    f->code = r.error.code;
    GEN_YIELD(g, gen_int(7));
    GEN_END(g);
}

static void test_resuming_running_generator_fails(void **state)
{
    (void)state;
    gen *g = gen_new(selfish_body, NULL, sizeof(struct selfish));
    struct selfish *f = gen_locals(g);
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_YIELDED); /* the generator goes on */
    assert_int_equal(r.value.i, 7);
    assert_int_equal(f->state_inside, GEN_RUNNING);
    assert_int_equal(f->seen, GEN_FAILED);
    assert_int_equal(f->code, GEN_ERUNNING);
    gen_free(g);
}

/* ---- 4. throw ---- */

static void test_throw_into_created_ends_it_without_running(void **state)
{
    (void)state;
    gen *g = countdown(3);
    gen_error e = gen_err(MY_ERROR, "boom");
    gen_result r;
    assert_int_equal(gen_throw(g, &e, &r), GEN_FAILED);
    assert_int_equal(r.error.code, MY_ERROR);
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    assert_string_equal(sup_trace(), ""); /* neither body nor finally ran */
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    gen_free(g);
}

static void test_throw_caught_and_yield_returns_yielded(void **state)
{
    (void)state;
    gen *g = catcher(0);
    gen_error e = gen_err(MY_ERROR, "boom");
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_throw(g, &e, &r), GEN_YIELDED);
    assert_int_equal(r.value.i, -1);
    assert_int_equal(gen_get_state(g), GEN_SUSPENDED);
    assert_string_equal(sup_trace(), "caught:boom ");
    gen_free(g);
}

static void test_throw_caught_and_return_ends_it(void **state)
{
    (void)state;
    gen *g = catcher(1);
    gen_error e = gen_err(MY_ERROR, "boom");
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_throw(g, &e, &r), GEN_RETURNED);
    assert_int_equal(r.value.i, -2);
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    assert_string_equal(sup_trace(), "caught:boom finally ");
    gen_free(g);
}

static void test_throw_uncaught_ends_it_with_same_error(void **state)
{
    (void)state;
    gen *g = countdown(3);
    gen_error e = gen_err(MY_ERROR, "no one catches %d", 3);
    e.payload = gen_ptr(&e);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_throw(g, &e, &r), GEN_FAILED);
    assert_int_equal(r.error.code, MY_ERROR);
    assert_string_equal(r.error.msg, "no one catches 3");
    assert_ptr_equal(r.error.payload.p, &e); /* the payload travels untouched */
    assert_string_equal(sup_trace(), "start finally ");
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    gen_free(g);
}

static void test_throw_other_error_passes_a_catcher(void **state)
{
    (void)state;
    gen *g = catcher(0);
    gen_error e = gen_err(OTHER_ERROR, "not yours");
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_throw(g, &e, &r), GEN_FAILED);
    assert_int_equal(r.error.code, OTHER_ERROR);
    assert_string_equal(sup_trace(), "finally ");
    gen_free(g);
}

static void test_throw_into_closed_fails_with_that_error(void **state)
{
    (void)state;
    gen *g = countdown(0);
    gen_result r;
    gen_next(g, &r);
    gen_error e = gen_err(MY_ERROR, "late");
    assert_int_equal(gen_throw(g, &e, &r), GEN_FAILED);
    assert_int_equal(r.error.code, MY_ERROR);
    gen_free(g);
}

/* ---- 5. raise, and the lesson of PEP 479 ---- */

struct raiser { int code; };

static int raiser_body(gen *g)
{
    struct raiser *f = gen_locals(g);
    GEN_BEGIN(g);
    GEN_YIELD(g, gen_int(1));
    GEN_RAISE(g, f->code, "raised %s", "inside");
    GEN_FINALLY(g);
    sup_note("finally ");
    GEN_END(g);
}

static void test_raise_ends_generator_with_error(void **state)
{
    (void)state;
    gen *g = gen_new(raiser_body, &(struct raiser){MY_ERROR}, sizeof(struct raiser));
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_next(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, MY_ERROR);
    assert_string_equal(r.error.msg, "raised inside");
    assert_string_equal(sup_trace(), "finally ");
    assert_int_equal(gen_next(g, &r), GEN_RETURNED); /* and then: stopped */
    gen_free(g);
}

static void test_error_with_code_zero_cannot_pass_for_a_stop(void **state)
{
    (void)state;
    gen *g = gen_new(raiser_body, &(struct raiser){0}, sizeof(struct raiser));
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_next(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_ENOCODE);
    gen_free(g);
    g = countdown(2);
    gen_next(g, &r);
    gen_error zero = {.code = 0};
    assert_int_equal(gen_throw(g, &zero, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_ENOCODE);
    gen_free(g);
}

/* ---- 6. close ---- */

static void test_close_created_runs_nothing(void **state)
{
    (void)state;
    gen *g = countdown(2);
    gen_result r;
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    assert_string_equal(sup_trace(), "");
    gen_free(g);
}

static void test_close_suspended_runs_cleanup(void **state)
{
    (void)state;
    gen *g = countdown(5);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);
    assert_int_equal(r.value.kind, GEN_NONE);
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    assert_string_equal(sup_trace(), "start finally ");
    gen_free(g);
}

static void test_close_closed_is_noop(void **state)
{
    (void)state;
    gen *g = countdown(1);
    gen_next(g, NULL);
    gen_close(g, NULL);
    assert_int_equal(gen_close(g, NULL), GEN_RETURNED);
    assert_int_equal(gen_close(g, NULL), GEN_RETURNED);
    assert_string_equal(sup_trace(), "start finally ");
    gen_free(g);
}

static void test_close_ignored_exit_is_an_error(void **state)
{
    (void)state;
    gen *g = stubborn(STUBBORN_YIELD);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_close(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_EIGNORED);
    assert_int_equal(gen_get_state(g), GEN_SUSPENDED); /* it is still alive */
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);  /* second time it gives in */
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    gen_free(g);
}

static void test_close_returns_value_of_return_after_exit(void **state)
{
    (void)state;
    gen *g = stubborn(STUBBORN_RETURN);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);
    assert_int_equal(r.value.i, 99);
    gen_free(g);
}

static void test_close_reports_other_error(void **state)
{
    (void)state;
    gen *g = stubborn(STUBBORN_RAISE);
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_close(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, OTHER_ERROR);
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    gen_free(g);
}

static void test_free_suspended_closes_it(void **state)
{
    (void)state;
    gen *g = countdown(3);
    gen_next(g, NULL);
    gen_next(g, NULL);
    gen_free(g);
    assert_string_equal(sup_trace(), "start finally ");
}

static void test_prime_starts_a_coroutine(void **state)
{
    (void)state;
    gen_result r;
    gen *g = gen_prime(gen_new(echo_body, NULL, 0), &r);
    assert_non_null(g);
    assert_int_equal(gen_get_state(g), GEN_SUSPENDED);
    assert_int_equal(gen_send(g, gen_int(3), &r), GEN_YIELDED);
    assert_int_equal(r.value.i, 3);
    gen_free(g);
    assert_null(gen_prime(countdown(0), &r)); /* did not yield: freed, NULL */
    assert_int_equal(r.status, GEN_RETURNED);
    assert_null(gen_prime(NULL, &r));
    assert_int_equal(r.status, GEN_FAILED);
}

/* ---- 7. yield from ---- */

/* A link of a chain: notes its name on start and in finally, delegates to
 * sub (or, if sub is NULL, yields 10 and whatever it receives, and returns
 * "ret:<name>"). */
struct link { const char *name; gen *sub; int raise_at_start; gen_value got; };

static int link_body(gen *g)
{
    struct link *f = gen_locals(g);
    GEN_BEGIN(g);
    sup_note("%s:start ", f->name);
    if (f->raise_at_start)
        GEN_RAISE(g, MY_ERROR, "%s failed", f->name);
    if (f->sub != NULL) {
        GEN_YIELD_FROM(g, f->sub);
        f->got = gen_received(g);
        sup_note("%s:got:%s ", f->name, f->got.kind == GEN_STR ? f->got.s : "?");
        GEN_RETURN(g, gen_str(f->name));
    }
    GEN_YIELD(g, gen_int(10));
    while (gen_received(g).kind != GEN_NONE) {
        sup_note("%s:recv:%lld ", f->name, gen_received(g).i);
        GEN_YIELD(g, gen_int(gen_received(g).i * 2));
    }
    GEN_RETURN(g, gen_str("ret"));
    GEN_FINALLY(g);
    sup_note("%s:finally ", f->name);
    GEN_END(g);
}

static gen *chain_link(const char *name, gen *sub)
{
    return gen_new(link_body, &(struct link){.name = name, .sub = sub}, sizeof(struct link));
}

static void free_chain(gen *outer)
{
    while (outer != NULL) {
        struct link *f = gen_locals(outer);
        gen *sub = f->sub;
        gen_free(outer);
        outer = sub;
    }
}

static void test_yield_from_first_resumes_nest_in_order(void **state)
{
    (void)state;
    gen *g = chain_link("a", chain_link("b", chain_link("c", NULL)));
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_YIELDED);
    assert_int_equal(r.value.i, 10); /* straight through */
    assert_string_equal(sup_trace(), "a:start b:start c:start ");
    free_chain(g);
}

static void test_yield_from_sends_reach_innermost(void **state)
{
    (void)state;
    gen *g = chain_link("a", chain_link("b", chain_link("c", NULL)));
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_send(g, gen_int(21), &r), GEN_YIELDED);
    assert_int_equal(r.value.i, 42);
    assert_string_equal(sup_trace(), "a:start b:start c:start c:recv:21 ");
    free_chain(g);
}

static void test_yield_from_return_value_is_its_value(void **state)
{
    (void)state;
    gen *g = chain_link("a", chain_link("b", chain_link("c", NULL)));
    gen_result r;
    gen_next(g, &r);
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    assert_string_equal(r.value.s, "a");
    assert_string_equal(sup_trace(), "a:start b:start c:start c:finally b:got:ret b:finally "
                               "a:got:b a:finally ");
    free_chain(g);
}

static void test_yield_from_inner_first_resume_error_unwinds_inner_first(void **state)
{
    (void)state;
    gen *c = chain_link("c", NULL);
    ((struct link *)gen_locals(c))->raise_at_start = 1;
    gen *g = chain_link("a", chain_link("b", c));
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, MY_ERROR);
    assert_string_equal(r.error.msg, "c failed");
    assert_string_equal(sup_trace(), "a:start b:start c:start c:finally b:finally a:finally ");
    assert_int_equal(gen_get_state(g), GEN_CLOSED);
    free_chain(g);
}

static void test_yield_from_close_cleans_up_inner_first(void **state)
{
    (void)state;
    gen *g = chain_link("a", chain_link("b", chain_link("c", NULL)));
    gen_result r;
    gen_next(g, &r);
    sup_trace_reset();
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);
    assert_string_equal(sup_trace(), "c:finally b:finally a:finally ");
    free_chain(g);
}

static void test_yield_from_throw_reaches_innermost_and_unwinds(void **state)
{
    (void)state;
    gen *g = chain_link("a", chain_link("b", chain_link("c", NULL)));
    gen_result r;
    gen_next(g, &r);
    sup_trace_reset();
    gen_error e = gen_err(MY_ERROR, "thrown");
    assert_int_equal(gen_throw(g, &e, &r), GEN_FAILED);
    assert_int_equal(r.error.code, MY_ERROR);
    assert_string_equal(sup_trace(), "c:finally b:finally a:finally ");
    free_chain(g);
}

static void test_yield_from_throw_caught_inside_becomes_yield(void **state)
{
    (void)state;
    gen *g = chain_link("a", catcher(0));
    gen_result r;
    gen_next(g, &r);
    gen_error e = gen_err(MY_ERROR, "x");
    assert_int_equal(gen_throw(g, &e, &r), GEN_YIELDED);
    assert_int_equal(r.value.i, -1);
    gen *sub = ((struct link *)gen_locals(g))->sub;
    gen_free(g); /* closes the catcher first, through the chain */
    assert_string_equal(sup_trace(), "a:start caught:x finally a:finally ");
    gen_free(sub);
}

static void test_yield_from_throw_caught_inside_becomes_return(void **state)
{
    (void)state;
    gen *g = chain_link("a", catcher(1));
    gen_result r;
    gen_next(g, &r);
    gen_error e = gen_err(MY_ERROR, "x");
    assert_int_equal(gen_throw(g, &e, &r), GEN_RETURNED);
    assert_string_equal(r.value.s, "a");
    assert_string_equal(sup_trace(), "a:start caught:x finally a:got:? a:finally ");
    struct link *f = gen_locals(g);
    assert_int_equal(f->got.i, -2); /* the catcher's return value */
    gen_free(f->sub);
    gen_free(g);
}

static void test_yield_from_exit_closes_inner_then_raises_outside(void **state)
{
    (void)state;
    gen *s = stubborn(STUBBORN_RAISE);
    gen *g = chain_link("a", s);
    gen_result r;
    gen_next(g, &r);
    sup_trace_reset();
    /* closing the inner one fails: that error, not GEN_EXIT, is raised in "a" */
    assert_int_equal(gen_close(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, OTHER_ERROR);
    assert_int_equal(gen_get_state(s), GEN_CLOSED);
    assert_string_equal(sup_trace(), "a:finally ");
    gen_free(g);
    gen_free(s);
}

static void test_yield_from_exit_closes_inner_not_throws_into_it(void **state)
{
    (void)state;
    /* the inner one answers GEN_EXIT with a return value; had the exit been
       thrown into it like any error, that value would have become the value
       of "a"'s yield from and "a" would have gone on running */
    gen *s = stubborn(STUBBORN_RETURN);
    gen *g = chain_link("a", s);
    gen_result r;
    gen_next(g, &r);
    sup_trace_reset();
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);
    assert_int_equal(r.value.kind, GEN_NONE);
    assert_string_equal(sup_trace(), "a:finally ");
    assert_int_equal(gen_get_state(s), GEN_CLOSED);
    gen_free(g);
    gen_free(s);
}

/* a delegator that catches what its subgenerator failed with */
struct rescuer { gen *sub; gen_error e; };

static int rescuer_body(gen *g)
{
    struct rescuer *f = gen_locals(g);
    GEN_BEGIN(g);
    GEN_YIELD_FROM_CATCH(g, f->sub, f->e);
    if (f->e.code != 0)
        sup_note("rescued:%s ", f->e.msg);
    GEN_YIELD(g, gen_int(f->e.code));
    GEN_END(g);
}

static void test_yield_from_failure_can_be_caught_by_delegator(void **state)
{
    (void)state;
    gen *c = chain_link("c", NULL);
    ((struct link *)gen_locals(c))->raise_at_start = 1;
    gen *g = gen_new(rescuer_body, &(struct rescuer){.sub = c}, sizeof(struct rescuer));
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_YIELDED);
    assert_int_equal(r.value.i, MY_ERROR);
    assert_string_equal(sup_trace(), "c:start c:finally rescued:c failed ");
    gen_free(g);
    gen_free(c);
}

/* delegation loop: x delegates to y, y delegates to x */
struct looper { gen *other; };

static int looper_body(gen *g)
{
    struct looper *f = gen_locals(g);
    GEN_BEGIN(g);
    GEN_YIELD_FROM(g, f->other);
    GEN_END(g);
}

static void test_delegation_loop_is_already_running(void **state)
{
    (void)state;
    gen *x = gen_new(looper_body, NULL, sizeof(struct looper));
    gen *y = gen_new(looper_body, &(struct looper){x}, sizeof(struct looper));
    ((struct looper *)gen_locals(x))->other = y;
    gen_result r;
    assert_int_equal(gen_next(x, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_ERUNNING);
    assert_int_equal(gen_get_state(x), GEN_CLOSED);
    assert_int_equal(gen_get_state(y), GEN_CLOSED);
    gen_free(x);
    gen_free(y);
}

static void test_yield_from_self_is_already_running(void **state)
{
    (void)state;
    gen *x = gen_new(looper_body, NULL, sizeof(struct looper));
    ((struct looper *)gen_locals(x))->other = x;
    gen_result r;
    assert_int_equal(gen_next(x, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_ERUNNING);
    gen_free(x);
}

static int empty_body(gen *g)
{
    GEN_BEGIN(g);
    GEN_END(g);
}

static void test_yield_from_empty_generator(void **state)
{
    (void)state;
    gen *g = chain_link("a", gen_new(empty_body, NULL, 0));
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_RETURNED); /* nothing to pass through */
    assert_string_equal(r.value.s, "a");
    assert_string_equal(sup_trace(), "a:start a:got:? a:finally ");
    struct link *f = gen_locals(g);
    assert_int_equal(f->got.kind, GEN_NONE);
    gen_free(f->sub);
    gen_free(g);
}

static void test_yield_from_finished_generator_gives_none(void **state)
{
    (void)state;
    gen *c = countdown(0);
    gen_next(c, NULL);
    sup_trace_reset();
    gen *g = chain_link("a", c);
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_RETURNED);
    assert_int_equal(((struct link *)gen_locals(g))->got.kind, GEN_NONE);
    gen_free(g);
    gen_free(c);
}

static void test_yield_from_null_is_an_error(void **state)
{
    (void)state;
    gen *g = gen_new(looper_body, NULL, sizeof(struct looper));
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_ENOSUB);
    gen_free(g);
}

static void test_yield_from_chain_of_any_depth(void **state)
{
    (void)state;
    enum { DEPTH = 10000 };
    gen *g = chain_link("z", NULL);
    for (int i = 0; i < DEPTH; i++)
        g = chain_link("x", g);
    gen_result r;
    assert_int_equal(gen_next(g, &r), GEN_YIELDED);
    assert_int_equal(r.value.i, 10);
    assert_int_equal(gen_send(g, gen_int(4), &r), GEN_YIELDED);
    assert_int_equal(r.value.i, 8);
    assert_int_equal(gen_close(g, &r), GEN_RETURNED);
    free_chain(g);
}

/* A chain far deeper than the C stack could forward through (the book
   measured 100,000 links passing and 200,000 not, on 8 MB): the first
   resume must fail with GEN_EDEPTH, as CPython fails with RecursionError,
   and closing and freeing must work after it. Run in a child, so that a
   crash of the C stack fails this test and not the whole suite. */
static void too_deep_chain(void)
{
    enum { DEPTH = 300000 };
    gen *g = chain_link("z", NULL);
    for (int i = 0; i < DEPTH && g != NULL; i++)
        g = chain_link("x", g);
    gen_result r;
    if (g == NULL || gen_next(g, &r) != GEN_FAILED || r.error.code != GEN_EDEPTH)
        _exit(3);
    if (gen_close(g, &r) != GEN_RETURNED)
        _exit(4);
    free_chain(g);
    _exit(0);
}

static void test_yield_from_too_deep_is_an_error(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        too_deep_chain();
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("the chain crashed with signal %d", WTERMSIG(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* The limit is on links that forward at once: the part of a chain that is
   already running below a suspended link counts when it is reached. A
   chain started in two halves, each under the limit, fails as a whole
   where the count passes the limit (in the lower half: the links below
   that point are not resumed and stay suspended), and freeing the links
   closes what is left. */
static void test_yield_from_depth_counts_the_whole_chain(void **state)
{
    (void)state;
    enum { HALF = GEN_MAX_DEPTH * 3 / 4 };
    gen *bottom = chain_link("z", NULL), *low = bottom;
    for (int i = 0; i < HALF; i++)
        low = chain_link("x", low);
    gen_result r;
    assert_int_equal(gen_next(low, &r), GEN_YIELDED);
    gen *g = low;
    for (int i = 0; i < HALF; i++)
        g = chain_link("x", g);
    assert_int_equal(gen_next(g, &r), GEN_FAILED);
    assert_int_equal(r.error.code, GEN_EDEPTH);
    assert_int_equal(gen_get_state(bottom), GEN_SUSPENDED);
    free_chain(g);
}

/* After the first step, next and send go straight to the innermost link
   (chapter 7, the short path): a step through a chain of GEN_MAX_DEPTH
   links must fit a 128 KiB thread stack, where forwarding link by link
   would need 32 bytes a link (more under ASan) and overflow it. Run in a
   child, so that an overflow fails this test and not the suite. */
static void *steps_on_small_stack(void *arg)
{
    gen *g = arg;
    gen_result r;
    for (long long v = 1; v <= 3; v++)
        if (gen_send(g, gen_int(v), &r) != GEN_YIELDED || r.value.i != 2 * v)
            return NULL;
    return g;
}

static void step_deep_chain_on_small_stack(void)
{
    gen *g = chain_link("z", NULL);
    for (int i = 0; i < GEN_MAX_DEPTH - 1; i++)
        g = chain_link("x", g);
    gen_result r;
    if (gen_next(g, &r) != GEN_YIELDED) /* the first step: the long path, on the big stack */
        _exit(3);
    pthread_attr_t attr;
    pthread_t t;
    void *ok = NULL;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 128 * 1024) != 0 ||
        pthread_create(&t, &attr, steps_on_small_stack, g) != 0 || pthread_join(t, &ok) != 0)
        _exit(4);
    if (ok == NULL)
        _exit(5);
    free_chain(g);
    _exit(0);
}

static void test_yield_from_step_uses_no_stack_per_link(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        step_deep_chain_on_small_stack();
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("the step crashed with signal %d", WTERMSIG(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- 8. checked misuse: the program stops with a message ---- */

/* a GEN_YIELD inside the body's own switch: its case label belongs to the
   inner switch, so the resume point is lost */
struct switchy { int mode; };

static int switchy_body(gen *g)
{
    struct switchy *f = gen_locals(g);
    GEN_BEGIN(g);
    switch (f->mode) {
    case 1:
        GEN_YIELD(g, gen_int(1));
        break;
    default:
        break;
    }
    GEN_END(g);
}

static int yield_in_finally_body(gen *g)
{
    GEN_BEGIN(g);
    GEN_YIELD(g, gen_int(1));
    GEN_FINALLY(g);
    GEN_YIELD(g, gen_int(2));
    GEN_END(g);
}

/* Run f in a child with stderr silenced; return the signal that ended it. */
static int dies_with(void (*f)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stderr);
        (void)devnull;
        f();
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void resume_switchy(void)
{
    gen *g = gen_new(switchy_body, &(struct switchy){1}, sizeof(struct switchy));
    gen_next(g, NULL); /* yields 1 from inside the inner switch */
    gen_next(g, NULL); /* cannot find where to go on */
}

static void close_yield_in_finally(void)
{
    gen *g = gen_new(yield_in_finally_body, NULL, 0);
    gen_next(g, NULL);
    gen_close(g, NULL);
}

static void test_yield_inside_switch_is_caught_at_resume(void **state)
{
    (void)state;
    assert_int_equal(dies_with(resume_switchy), SIGABRT);
}

static void test_yield_in_finally_is_caught(void **state)
{
    (void)state;
    assert_int_equal(dies_with(close_yield_in_finally), SIGABRT);
}

/* net_strerror knows every private code of the generator library by its
 * name in gen.h (the table in net.c spells them as numbers), and answers
 * -errno as strerror does. */
static void test_net_strerror_knows_every_gen_code(void **state)
{
    (void)state;
    assert_string_equal(net_strerror(GEN_ERUNNING), "generator is already running");
    assert_string_equal(net_strerror(GEN_EXIT), "generator exit");
    assert_string_equal(net_strerror(GEN_ESENDNEW), "value sent to a just-started generator");
    assert_string_equal(net_strerror(GEN_EIGNORED), "generator ignored exit and yielded");
    assert_string_equal(net_strerror(GEN_ENOCODE), "error raised with code 0");
    assert_string_equal(net_strerror(GEN_ENOSUB), "GEN_YIELD_FROM of NULL");
    char want[128];
    snprintf(want, sizeof want, "%s", strerror(ENOENT));
    assert_string_equal(net_strerror(-ENOENT), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_strerror_knows_every_gen_code),
#define T(name) cmocka_unit_test_setup(name, reset_trace)
        T(test_created_does_not_run_body),
        T(test_next_yields_in_order_keeping_locals),
        T(test_return_value_comes_with_returned),
        T(test_finally_runs_on_normal_end),
        T(test_end_without_return_gives_none),
        T(test_after_stop_every_resume_reports_stopped),
        T(test_send_to_created_is_refused),
        T(test_send_none_to_created_is_next),
        T(test_send_value_is_received_at_yield),
        T(test_resuming_running_generator_fails),
        T(test_throw_into_created_ends_it_without_running),
        T(test_throw_caught_and_yield_returns_yielded),
        T(test_throw_caught_and_return_ends_it),
        T(test_throw_uncaught_ends_it_with_same_error),
        T(test_throw_other_error_passes_a_catcher),
        T(test_throw_into_closed_fails_with_that_error),
        T(test_raise_ends_generator_with_error),
        T(test_error_with_code_zero_cannot_pass_for_a_stop),
        T(test_close_created_runs_nothing),
        T(test_close_suspended_runs_cleanup),
        T(test_close_closed_is_noop),
        T(test_close_ignored_exit_is_an_error),
        T(test_close_returns_value_of_return_after_exit),
        T(test_close_reports_other_error),
        T(test_free_suspended_closes_it),
        T(test_prime_starts_a_coroutine),
        T(test_yield_from_first_resumes_nest_in_order),
        T(test_yield_from_sends_reach_innermost),
        T(test_yield_from_return_value_is_its_value),
        T(test_yield_from_inner_first_resume_error_unwinds_inner_first),
        T(test_yield_from_close_cleans_up_inner_first),
        T(test_yield_from_throw_reaches_innermost_and_unwinds),
        T(test_yield_from_throw_caught_inside_becomes_yield),
        T(test_yield_from_throw_caught_inside_becomes_return),
        T(test_yield_from_exit_closes_inner_then_raises_outside),
        T(test_yield_from_exit_closes_inner_not_throws_into_it),
        T(test_yield_from_failure_can_be_caught_by_delegator),
        T(test_delegation_loop_is_already_running),
        T(test_yield_from_self_is_already_running),
        T(test_yield_from_empty_generator),
        T(test_yield_from_finished_generator_gives_none),
        T(test_yield_from_null_is_an_error),
        T(test_yield_from_chain_of_any_depth),
        T(test_yield_from_too_deep_is_an_error),
        T(test_yield_from_depth_counts_the_whole_chain),
        T(test_yield_from_step_uses_no_stack_per_link),
        T(test_yield_inside_switch_is_caught_at_resume),
        T(test_yield_in_finally_is_caught),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
