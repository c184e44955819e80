/* tests/bench/trace_cost.c — what the trace of appendix А costs per task
 * step: a task yields to the loop n times (each step one iteration of
 * aio_loop_run_once: select with timeout 0, the ready queue, the step;
 * four TRACE points: select begin and end, step begin and end). Argument:
 * "off" (the trace closed: TRACE is one test of trace_enabled), or a file
 * to write the trace to ("on"). Built twice by tests/bench/trace.sh: with
 * the library as it is, and with every TRACE compiled away (the library's
 * sources with -DTRACE_NONE), so that "off" can be compared with no trace
 * at all. Prints ns per step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aio.h"

struct spin { long n, i; };

static int spin_body(gen *g)
{
    struct spin *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 0; f->i < f->n; f->i++)
        GEN_YIELD(g, gen_none());
    GEN_END(g);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 2000000;
    if (argc < 2 || (strcmp(argv[1], "off") != 0 && trace_open(argv[1]) < 0)) {
        fprintf(stderr, "usage: trace_cost off|FILE [STEPS]\n");
        return 2;
    }
    aio_loop *loop;
    if (aio_loop_new(&loop) < 0)
        return 1;
    aio_future *t = aio_create_task(loop, gen_new(spin_body, &(struct spin){.n = n}, sizeof(struct spin)));
    double t0 = now_ns();
    aio_loop_run_until_complete(loop, t);
    double t1 = now_ns();
    aio_future_unref(t);
    aio_loop_free(loop);
    trace_close();
    printf("%.1f\n", (t1 - t0) / n);
    return 0;
}
