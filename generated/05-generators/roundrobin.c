/* Этот файл извлечён (tangle) из книги: book/05-generators.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "gen.h"
#include "net.h"
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>

struct letters {
    const char *s; /* аргумент генератора */
    size_t i;      /* переменная цикла живёт через остановку -- в кадре */
    char ch[2];    /* выдаваемая строка из одной буквы */
};

static int letters_body(gen *g)
{
    struct letters *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 0; f->s[f->i] != '\0'; f->i++) {
        f->ch[0] = f->s[f->i];
        GEN_YIELD(g, gen_str(f->ch));
    }
    GEN_END(g);
}

static gen *letters(const char *s)
{
    return gen_new(letters_body, &(struct letters){.s = s}, sizeof(struct letters));
}
struct numbers {
    int n; /* сколько чисел */
    int i;
};

static int numbers_body(gen *g)
{
    struct numbers *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 0; f->i < f->n; f->i++)
        GEN_YIELD(g, gen_int(f->i));
    GEN_END(g);
}

static gen *numbers(int n)
{
    return gen_new(numbers_body, &(struct numbers){.n = n}, sizeof(struct numbers));
}
enum { QUEUE_CAP = 8 };

struct queue {
    gen *items[QUEUE_CAP];
    size_t head, len;
};

static void queue_push(struct queue *q, gen *g)
{
    q->items[(q->head + q->len++) % QUEUE_CAP] = g;
}

static gen *queue_pop(struct queue *q)
{
    gen *g = q->items[q->head];
    q->head = (q->head + 1) % QUEUE_CAP;
    q->len--;
    return g;
}
int main(int argc, char **argv)
{
    int status;
    const struct net_option opts[] = {TRACE_OPTION, {0}};
    if (net_parse_args(argc, argv, "", opts, 0, &status) < 0)
        return status;   /* --help или опечатка: командная строка главы 1 */
    struct queue tasks = {0};
    gen *a = letters("hello");
    gen *b = numbers(4);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "roundrobin: gen_new: out of memory\n");
        gen_free(a);
        gen_free(b);
        return 1;
    }
    TRACE(new_lane(&a->lane, a->name));
    TRACE(new_lane(&b->lane, b->name));
    queue_push(&tasks, a);
    queue_push(&tasks, b);
    while (tasks.len > 0) {
        gen *task = queue_pop(&tasks);
        gen_result r;
        TRACE(begin(task->lane, task->name));
        if (gen_next(task, &r) == GEN_YIELDED) {
            TRACE(end(task->lane));
            if (r.value.kind == GEN_STR)
                printf("%s\n", r.value.s);
            else
                printf("%lld\n", r.value.i);
            queue_push(&tasks, task);
        } else {
            TRACE(end(task->lane));
            gen_free(task);
        }
    }
    return 0;
}
