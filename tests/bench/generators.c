/* tests/bench/generators.c — what a generator switch costs (make bench).
 * Not a test: prints TSV lines "name<TAB>value<TAB>unit" for generators.sh.
 *   resume+yield of a gen.h generator (gen_next into a counting body)
 *   gen_send, and gen_throw of an error caught inside
 *   the same through yield-from chains of depth 3, 10, 100
 *   a ucontext round trip (swapcontext there and back)
 *   memory per suspended generator (RSS growth over many)
 *   C stack per link of a yield-from chain
 *   a Task step through the event loop of chapter 8 (bare yield: one loop
 *   iteration per step) and memory per task suspended on a Future */
#define _GNU_SOURCE
#include "aio.h"
#include "gen.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct counter { long long i; };

static int counter_body(gen *g)
{
    struct counter *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        f->i++;
        GEN_YIELD(g, gen_int(f->i));
    }
    GEN_END(g);
}

struct catcher { gen_error e; long long n; };

static int catcher_body(gen *g)
{
    struct catcher *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        GEN_YIELD_CATCH(g, gen_int(f->n), f->e);
        if (f->e.code == GEN_EXIT)
            GEN_RAISE_ERR(g, f->e);
        f->n += f->e.code != 0 ? 1 : gen_received(g).i;
    }
    GEN_END(g);
}

/* the same step driven by gen_send (a value in) and by gen_throw (an error
   in, caught and answered with a yield) */
static double bench_send_throw(long n, int throwing)
{
    gen *g = gen_new(catcher_body, NULL, sizeof(struct catcher));
    gen_result r;
    gen_error e = gen_err(1, "bench");
    long long sum = 0;
    gen_next(g, &r);
    double t0 = now_ns();
    for (long k = 0; k < n; k++) {
        if (throwing)
            gen_throw(g, &e, &r);
        else
            gen_send(g, gen_int(1), &r);
        sum += r.value.i;
    }
    double t1 = now_ns();
    if (sum == 42)
        puts("");
    gen_free(g);
    return (t1 - t0) / n;
}

struct relay { gen *sub; };

static int relay_body(gen *g)
{
    struct relay *f = gen_locals(g);
    GEN_BEGIN(g);
    GEN_YIELD_FROM(g, f->sub);
    GEN_END(g);
}

static double bench_gen(long n, int depth)
{
    gen **chain = malloc(depth * sizeof *chain);
    chain[0] = gen_new(counter_body, NULL, sizeof(struct counter));
    for (int d = 1; d < depth; d++)
        chain[d] = gen_new(relay_body, &(struct relay){chain[d - 1]}, sizeof(struct relay));
    gen *top = chain[depth - 1];
    gen_result r;
    long long sum = 0;
    double t0 = now_ns();
    for (long k = 0; k < n; k++) {
        gen_next(top, &r);
        sum += r.value.i;
    }
    double t1 = now_ns();
    if (sum == 42)
        puts("");
    for (int d = depth - 1; d >= 0; d--)
        gen_free(chain[d]);
    free(chain);
    return (t1 - t0) / n;
}

/* C stack used by one link of a yield-from chain: the innermost body
   notes the address of a local; compare a chain of 1 with a chain of 101. */
static uintptr_t deepest;

static int probe_body(gen *g)
{
    char here;
    GEN_BEGIN(g);
    deepest = (uintptr_t)&here;
    GEN_YIELD(g, gen_none());
    GEN_END(g);
}

static uintptr_t probe(int depth)
{
    gen **chain = malloc(depth * sizeof *chain);
    chain[0] = gen_new(probe_body, NULL, 0);
    for (int d = 1; d < depth; d++)
        chain[d] = gen_new(relay_body, &(struct relay){chain[d - 1]}, sizeof(struct relay));
    gen_next(chain[depth - 1], NULL);
    for (int d = depth - 1; d >= 0; d--)
        gen_free(chain[d]);
    free(chain);
    return deepest;
}

static ucontext_t main_ctx, coro_ctx;
static volatile long long shared;

static void coro_fn(void)
{
    for (;;) {
        shared++;
        swapcontext(&coro_ctx, &main_ctx);
    }
}

static double bench_ucontext(long n, size_t stack)
{
    char *st = malloc(stack);
    getcontext(&coro_ctx);
    coro_ctx.uc_stack.ss_sp = st;
    coro_ctx.uc_stack.ss_size = stack;
    coro_ctx.uc_link = &main_ctx;
    makecontext(&coro_ctx, coro_fn, 0);
    double t0 = now_ns();
    for (long k = 0; k < n; k++)
        swapcontext(&main_ctx, &coro_ctx);
    double t1 = now_ns();
    free(st);
    return (t1 - t0) / n;
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static double bench_memory(long n)
{
    gen **all = malloc(n * sizeof *all);
    long before = rss_bytes();
    for (long k = 0; k < n; k++) {
        all[k] = gen_new(counter_body, NULL, sizeof(struct counter));
        gen_next(all[k], NULL);
    }
    long after = rss_bytes();
    for (long k = 0; k < n; k++)
        gen_free(all[k]);
    free(all);
    return (double)(after - before) / n;
}

/* A task that yields to the loop n times: each step is one iteration of
   aio_loop_run_once (selector poll with timeout 0, ready queue, step). */
struct spin { long n, i; };

static int spin_body(gen *g)
{
    struct spin *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 0; f->i < f->n; f->i++)
        GEN_YIELD(g, gen_none());
    GEN_END(g);
}

static double bench_task_step(long n)
{
    aio_loop *loop;
    if (aio_loop_new(&loop) < 0)
        return -1;
    aio_future *t = aio_create_task(loop, gen_new(spin_body, &(struct spin){.n = n}, sizeof(struct spin)));
    double t0 = now_ns();
    aio_loop_run_until_complete(loop, t);
    double t1 = now_ns();
    aio_future_unref(t);
    aio_loop_free(loop);
    return (t1 - t0) / n;
}

/* Memory per task suspended on a Future of its own (as a client task waits
   for its socket): the task, its coroutine frame and the Future. */
struct waiter { aio_future *fut; gen_value r; };

static int waiter_body(gen *g)
{
    struct waiter *f = gen_locals(g);
    GEN_BEGIN(g);
    AIO_AWAIT(g, f->r, f->fut);
    GEN_END(g);
}

static double bench_task_memory(long n)
{
    aio_loop *loop;
    aio_future **futs = malloc(n * sizeof *futs);
    if (futs == NULL || aio_loop_new(&loop) < 0)
        return -1;
    long before = rss_bytes();
    for (long k = 0; k < n; k++) {
        futs[k] = aio_future_new(loop);
        aio_future_unref(aio_create_task(loop, gen_new(waiter_body, &(struct waiter){.fut = futs[k]},
                                                       sizeof(struct waiter))));
    }
    aio_loop_run_once(loop);   /* the first steps: every task parks on its Future */
    long after = rss_bytes();
    for (long k = 0; k < n; k++) {
        aio_future_set_result(futs[k], gen_none());
        aio_future_unref(futs[k]);
    }
    while (aio_pending_tasks(loop) > 0)
        aio_loop_run_once(loop);
    aio_loop_free(loop);
    free(futs);
    return (double)(after - before) / n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    bench_gen(n / 10, 1); /* warm up */
    printf("gen_resume_yield\t%.2f\tns\n", bench_gen(n, 1));
    printf("gen_send_yield\t%.2f\tns\n", bench_send_throw(n, 0));
    printf("gen_throw_caught_yield\t%.2f\tns\n", bench_send_throw(n / 4, 1));
    printf("gen_resume_yield_depth3\t%.2f\tns\n", bench_gen(n, 3));
    printf("gen_resume_yield_depth10\t%.2f\tns\n", bench_gen(n / 4, 10));
    printf("gen_resume_yield_depth100\t%.2f\tns\n", bench_gen(n / 20, 100));
    uintptr_t top = probe(1), bottom = probe(101);
    printf("gen_stack_per_link\t%ld\tbytes\n", (long)(top - bottom) / 100);
    printf("ucontext_round_trip\t%.2f\tns\n", bench_ucontext(n / 4, 64 * 1024));
    printf("gen_struct_size\t%zu\tbytes\n", sizeof(gen) + sizeof(struct counter));
    printf("gen_memory_per_suspended\t%.1f\tbytes\n", bench_memory(200000));
    printf("ucontext_stack_per_coroutine\t%d\tbytes\n", 64 * 1024);
    printf("aio_task_step\t%.2f\tns\n", bench_task_step(n / 20));
    printf("aio_memory_per_task\t%.1f\tbytes\n", bench_task_memory(100000));
    return 0;
}
