/* Этот файл извлечён (tangle) из книги: book/08-event-loop.nw book/09-tasks.nw book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "gen.h"
#include "net.h"
#include "selector.h"
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *toy_need(void *p, const char *what)
{
    if (p == NULL) {
        fprintf(stderr, "toy: %s\n", what);
        exit(1);
    }
    return p;
}
typedef void aio_callback(void *arg);

struct call {
    aio_callback *fn;
    void *arg;
    double when;                  /* таймер: когда вызвать */
};

enum { TOY_MAX = 256 };

typedef struct aio_loop {
    selector *sel;
    struct call ready[TOY_MAX];   /* очередь готовых: кольцо */
    size_t head, nready;
    struct call timers[TOY_MAX];  /* таймеры, без всякого порядка */
    size_t ntimers;
} aio_loop;
static double aio_time(const aio_loop *loop)
{
    (void)loop;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void aio_call_soon(aio_loop *loop, aio_callback *fn, void *arg)
{
    if (loop->nready == TOY_MAX)
        toy_need(NULL, "the ready queue is full");
    loop->ready[(loop->head + loop->nready++) % TOY_MAX] = (struct call){fn, arg, 0};
}

static void aio_call_at(aio_loop *loop, double when, aio_callback *fn, void *arg)
{
    if (loop->ntimers == TOY_MAX)
        toy_need(NULL, "too many timers");
    loop->timers[loop->ntimers++] = (struct call){fn, arg, when};
}
static int timeout_ms(aio_loop *loop)
{
    if (loop->nready > 0)
        return 0;
    double ms = -1;                     /* ни дел, ни таймеров: ждать вечно */
    for (size_t i = 0; i < loop->ntimers; i++) {
        double left = ceil((loop->timers[i].when - aio_time(loop)) * 1000);
        if (ms < 0 || left < ms)
            ms = left < 0 ? 0 : left;
    }
    return (int)ms;
}
static void run_once(aio_loop *loop)
{
    selector_event ev[1];
    TRACE(begin(TRACE_LOOP, "select"));
    selector_select(loop->sel, ev, 1, timeout_ms(loop));
    TRACE(end(TRACE_LOOP));
    double now = aio_time(loop);
    for (size_t i = 0; i < loop->ntimers;) {    /* наступившие -- в очередь */
        struct call *t = &loop->timers[i];
        if (t->when > now) {
            i++;
            continue;
        }
        aio_call_soon(loop, t->fn, t->arg);
        *t = loop->timers[--loop->ntimers];     /* дыру закрывает последний */
    }
    while (loop->nready > 0) {                  /* очередь -- до дна */
        struct call c = loop->ready[loop->head];
        loop->head = (loop->head + 1) % TOY_MAX;
        loop->nready--;
        c.fn(c.arg);
    }
}
typedef struct aio_task aio_task;

typedef struct aio_future {
    aio_loop *loop;
    int done;
    gen_value result;
    aio_task *waiter;            /* ждать его может только одна задача */
} aio_future;

struct aio_task {
    aio_future fut;              /* задача -- это Future: первое поле */
    gen *coro;
    aio_future *awaiting;        /* чего ждёт задача, или NULL */
};
static void task_step(void *arg);

static void future_set_result(aio_future *f, gen_value v)
{
    f->done = 1;
    f->result = v;
    if (f->waiter != NULL)
        aio_call_soon(f->loop, task_step, f->waiter);
}
static void task_step(void *arg)
{
    aio_task *t = arg;
    gen_value send = gen_none();
    if (t->awaiting != NULL) {            /* проснулась: забрать результат */
        send = t->awaiting->result;
        free(t->awaiting);
        t->awaiting = NULL;
    }
    TRACE(begin(t->coro->lane, t->coro->name));
    gen_result r;
    if (gen_send(t->coro, send, &r) != GEN_YIELDED) {
        TRACE(end(t->coro->lane));
        gen_free(t->coro);
        future_set_result(&t->fut, r.status == GEN_RETURNED ? r.value : gen_none());
        return;                           /* упала ли корутина, игрушка не смотрит */
    }
    TRACE(end(t->coro->lane));
    aio_future *f = r.value.kind == GEN_PTR ? r.value.p : NULL;
    if (f == NULL) {                      /* голый yield: уступить очередь */
        aio_call_soon(t->fut.loop, task_step, t);
        return;
    }
    t->awaiting = f;
    if (f->done)                          /* уже готов: шагнуть снова */
        aio_call_soon(t->fut.loop, task_step, t);
    else                                  /* уснуть до его завершения */
        f->waiter = t;
}
static aio_future *aio_create_task(aio_loop *loop, gen *coro)
{
    aio_task *t = toy_need(calloc(1, sizeof *t), "out of memory");
    t->fut.loop = loop;
    t->coro = toy_need(coro, "out of memory");
    TRACE(new_lane(&coro->lane, coro->name));
    aio_call_soon(loop, task_step, t);
    return &t->fut;
}
static void sleep_done(void *arg)
{
    future_set_result(arg, gen_none());
}

static aio_future *aio_sleep(aio_loop *loop, double delay)
{
    aio_future *f = toy_need(calloc(1, sizeof *f), "out of memory");
    f->loop = loop;
    aio_call_at(loop, aio_time(loop) + delay, sleep_done, f);
    return f;
}
#define AIO_AWAIT_NEW(g, res, expr)                                      \
    do {                                                                 \
        GEN_YIELD(g, gen_ptr(expr));                                     \
        (res) = gen_received(g);                                         \
    } while (0)
static void aio_run(aio_loop *loop, gen *main)
{
    aio_future *task = aio_create_task(loop, main);
    while (!task->done)
        run_once(loop);
    free(task);
}
struct print_nums {
    aio_loop *loop;
    long long limit;       /* сколько чисел напечатать; 0 -- без конца */
    long long num;
    gen_value r;
};

static int print_nums_body(gen *g)
{
    struct print_nums *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->num = 1; f->limit == 0 || f->num <= f->limit; f->num++) {
        printf("%lld\n", f->num);
        AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0.1));
    }
    GEN_END(g);
}
struct print_time {
    aio_loop *loop;
    long long limit;       /* до скольки секунд считать; 0 -- без конца */
    long long count;
    gen_value r;
};

static int print_time_body(gen *g)
{
    struct print_time *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->count = 0;; f->count++) {
        if (f->count % 3 == 0)
            printf("%lld seconds have passed\n", f->count);
        if (f->limit != 0 && f->count >= f->limit)
            break;
        AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 1.0));
    }
    GEN_END(g);
}
struct main_frame {
    aio_loop *loop;
    long long seconds;
    aio_future *nums, *time;
    gen_value r;
};

static int main_body(gen *g)
{
    struct main_frame *f = gen_locals(g);
    GEN_BEGIN(g);
    f->nums = aio_create_task(f->loop, gen_new(print_nums_body,
        &(struct print_nums){f->loop, f->seconds * 10, 0, {0}},
        sizeof(struct print_nums)));
    f->time = aio_create_task(f->loop, gen_new(print_time_body,
        &(struct print_time){f->loop, f->seconds, 0, {0}},
        sizeof(struct print_time)));
    AIO_AWAIT_NEW(g, f->r, f->nums);
    AIO_AWAIT_NEW(g, f->r, f->time);
    GEN_END(g);
}
static void say(void *arg)
{
    printf("%s\n", (const char *)arg);
}

struct ties {
    aio_loop *loop;
    aio_future *nap;
    double when;
    gen_value r;
};

static int ties_body(gen *g)
{
    struct ties *f = gen_locals(g);
    GEN_BEGIN(g);
    f->nap = aio_sleep(f->loop, 0.05);
    f->when = aio_time(f->loop) + 0.01;
    aio_call_at(f->loop, f->when, say, "a");
    aio_call_at(f->loop, f->when, say, "b");
    aio_call_at(f->loop, f->when, say, "c");
    aio_call_at(f->loop, f->when, say, "d");
    AIO_AWAIT_NEW(g, f->r, f->nap);
    GEN_END(g);
}
struct spin {
    aio_loop *loop;
    int i;
    aio_future *spinner;
    gen_value r;
};

static int spinner_body(gen *g)
{
    struct spin *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 1; f->i <= 5; f->i++) {
        printf("spin %d\n", f->i);
        GEN_YIELD(g, gen_none());      /* уступить: await asyncio.sleep(0) */
    }
    GEN_END(g);
}

static int spin_body(gen *g)
{
    struct spin *f = gen_locals(g);
    GEN_BEGIN(g);
    f->spinner = aio_create_task(f->loop, gen_new(spinner_body, f, sizeof *f));
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0));
    printf("timer\n");
    AIO_AWAIT_NEW(g, f->r, f->spinner);
    GEN_END(g);
}
struct late {
    aio_loop *loop;
    aio_future *count, *fail;
    gen_value r;
};

static int fail_body(gen *g)
{
    GEN_BEGIN(g);
    printf("fail: raising an error\n");
    GEN_RAISE(g, -EPROTO, "fail: the reply makes no sense");
    GEN_END(g);
}
static int late_body(gen *g)
{
    struct late *f = gen_locals(g);
    GEN_BEGIN(g);
    f->count = aio_create_task(f->loop, gen_new(print_nums_body,
        &(struct print_nums){f->loop, 3, 0, {0}}, sizeof(struct print_nums)));
    f->fail = aio_create_task(f->loop, gen_new(fail_body, NULL, 0));
    AIO_AWAIT_NEW(g, f->r, f->count);
    AIO_AWAIT_NEW(g, f->r, f->fail);
    printf("late: both done\n");
    GEN_END(g);
}
struct hang {
    aio_loop *loop;
    gen_value r;
};

static int hang_body(gen *g)
{
    struct hang *f = gen_locals(g);
    GEN_BEGIN(g);
    printf("hang: waiting for a reply that never comes\n");
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 3600));
    GEN_FINALLY(g);
    printf("hang: cleaning up\n");
    GEN_END(g);
}
struct reader {
    aio_loop *loop;
    aio_future *nums;
    char line[64];
    gen_value r;
};

static int read_body(gen *g)
{
    struct reader *f = gen_locals(g);
    ssize_t n;
    GEN_BEGIN(g);
    f->nums = aio_create_task(f->loop, gen_new(print_nums_body,
        &(struct print_nums){f->loop, 5, 0, {0}}, sizeof(struct print_nums)));
    AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, 0));   /* пусть числа начнут */
    n = read(0, f->line, sizeof f->line);            /* блокирующий вызов */
    printf("read: %.*s\n", n > 0 ? (int)strcspn(f->line, "\n") : 0, f->line);
    AIO_AWAIT_NEW(g, f->r, f->nums);
    GEN_END(g);
}
struct scenario {
    const char *name;
    gen_body *body;
    size_t size;           /* кадр начинается с aio_loop *loop */
};

static const struct scenario scenarios[] = {
    {"ties", ties_body, sizeof(struct ties)},      /* глава 8 */
    {"spin", spin_body, sizeof(struct spin)},
    {"late", late_body, sizeof(struct late)},      /* глава 9 */
    {"hang", hang_body, sizeof(struct hang)},
    {"read", read_body, sizeof(struct reader)},    /* глава 10 */
    {NULL, NULL, 0},
};

static int pick_scenario(void *slot, const char *name)
{
    for (const struct scenario *s = scenarios; s->name != NULL; s++)
        if (strcmp(name, s->name) == 0) {
            *(const struct scenario **)slot = s;
            return 0;
        }
    return -1;
}

/* Без параметров -- числа без конца; --seconds N -- N секунд;
   --scenario ИМЯ -- сценарий. NULL и код выхода в *status: подсказка,
   ошибка в параметрах (2) или нет памяти (1). */
static gen *new_main(aio_loop *loop, int argc, char **argv, int *status)
{
    long seconds = 0;
    const struct scenario *chosen = NULL;
    const struct net_option opts[] = {
        {.name = "seconds", .kind = NET_OPT_LONG, .value = &seconds, .arg = "N",
         .help = "print numbers for N seconds (default: until Ctrl+C)",
         .min = 1, .max = 1000000},
        {.name = "scenario", .kind = NET_OPT_CALL, .value = &chosen, .arg = "NAME",
         .help = "run a scenario instead: ties, spin, late, hang or read",
         .call = pick_scenario},
        TRACE_OPTION,
        {0},
    };
    if (net_parse_args(argc, argv, "[--seconds N | --scenario NAME]", opts, 0,
                       status) < 0)
        return NULL;
    *status = 1;
    if (chosen == NULL)
        return gen_new(main_body, &(struct main_frame){.loop = loop,
                       .seconds = seconds}, sizeof(struct main_frame));
    gen *g = gen_new(chosen->body, NULL, chosen->size);
    if (g != NULL)
        *(aio_loop **)gen_locals(g) = loop;
    return g;
}
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    aio_loop loop = {0};
    int rc = selector_new(&loop.sel, NULL);
    if (rc < 0) {
        fprintf(stderr, "selector_new: %s\n", strerror(-rc));
        return 1;
    }
    int status;
    gen *first = new_main(&loop, argc, argv, &status);
    if (first != NULL)
        aio_run(&loop, first);
    selector_free(loop.sel);
    return first != NULL ? 0 : status;
}
