/* Этот файл извлечён (tangle) из книги: book/08-event-loop.nw book/09-tasks.nw book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    aio_future *tasks[2];
    aio_future *all;
    gen_value r;
};

static int main_body(gen *g)
{
    struct main_frame *f = gen_locals(g);
    GEN_BEGIN(g);
    f->tasks[0] = aio_create_task(f->loop, gen_new(print_nums_body,
        &(struct print_nums){f->loop, f->seconds * 10, 0, {0}},
        sizeof(struct print_nums)));
    f->tasks[1] = aio_create_task(f->loop, gen_new(print_time_body,
        &(struct print_time){f->loop, f->seconds, 0, {0}},
        sizeof(struct print_time)));
    if (f->tasks[0] == NULL || f->tasks[1] == NULL)
        GEN_RAISE(g, -ENOMEM, "cannot create the tasks");
    f->all = aio_gather(f->loop, f->tasks, 2);
    AIO_AWAIT_NEW(g, f->r, f->all);
    GEN_FINALLY(g);
    aio_future_unref(f->tasks[0]);
    aio_future_unref(f->tasks[1]);
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
    aio_loop *loop;
    int rc = aio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return 1;
    }
    int status;
    gen *first = new_main(loop, argc, argv, &status);
    gen_result r;
    rc = first != NULL ? aio_run(loop, first, &r) : 0;
    aio_loop_free(loop);
    if (rc != 0 && rc != AIO_ECANCELLED) {
        fprintf(stderr, "main: %s\n", r.error.msg);
        return 1;
    }
    return first != NULL ? 0 : status;
}
