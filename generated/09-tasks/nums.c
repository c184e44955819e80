/* Этот файл извлечён (tangle) из книги: book/09-tasks.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* --seconds N (командная строка главы 1). 0 или -1: выйти с *status. */
static int seconds_from_args(int argc, char **argv, long long *seconds, int *status)
{
    long s = 0;
    const struct net_option opts[] = {
        {.name = "seconds", .kind = NET_OPT_LONG, .value = &s, .arg = "N",
         .help = "stop after N seconds (default: at Ctrl+C)", .min = 1, .max = 1000000},
        {0},
    };
    if (net_parse_args(argc, argv, "[--seconds N]", opts, 0, status) < 0)
        return -1;
    *seconds = s;
    return 0;
}
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long seconds;
    int status;
    if (seconds_from_args(argc, argv, &seconds, &status) < 0)
        return status;
    aio_loop *loop;
    int rc = aio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return 1;
    }
    gen_result r;
    rc = aio_run(loop, gen_new(main_body, &(struct main_frame){.loop = loop,
                                   .seconds = seconds}, sizeof(struct main_frame)),
                 &r);
    aio_loop_free(loop);
    if (rc != 0 && rc != AIO_ECANCELLED) {
        fprintf(stderr, "main: %s\n", r.error.msg);
        return 1;
    }
    return 0;
}
