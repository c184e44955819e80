/* Этот файл извлечён (tangle) из книги: book/07-delegation.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "gen.h"
#include "net.h"

#include <stdio.h>
#include <string.h>

enum { BLA_BLA = 1 }; /* наш код для исключения оригинала */

struct sub_gen {
    gen_error e; /* пойманная ошибка */
};

static int sub_gen_body(gen *g)
{
    struct sub_gen *f = gen_locals(g);
    GEN_BEGIN(g);
    for (;;) {
        GEN_YIELD_CATCH(g, gen_none(), f->e);
        if (f->e.code == BLA_BLA)
            break;
        if (f->e.code != 0)
            GEN_RAISE_ERR(g, f->e);
        puts(gen_received(g).s);
    }
    GEN_RETURN(g, gen_str("Return from sub_gen()"));
    GEN_END(g);
}
struct delegator {
    gen *sub;     /* подгенератор: им владеет main, не мы */
    gen_result r; /* последний шаг подгенератора */
    gen_error e;  /* что бросили в нас */
};
static int delegator_by_hand_body(gen *g)
{
    struct delegator *f = gen_locals(g);
    GEN_BEGIN(g);
    gen_next(f->sub, &f->r); /* шаг 1 */
    while (f->r.status == GEN_YIELDED) {
        GEN_YIELD_CATCH(g, f->r.value, f->e); /* шаг 2: наверх то же значение */
        if (f->e.code == GEN_EXIT) {
            if (gen_close(f->sub, &f->r) == GEN_FAILED)
                GEN_RAISE_ERR(g, f->r.error);
            GEN_RAISE_ERR(g, f->e);
        }
        if (f->e.code != 0)
            gen_throw(f->sub, &f->e, &f->r);
        else
            gen_send(f->sub, gen_received(g), &f->r);
    }
    if (f->r.status == GEN_FAILED) /* шаг 3 */
        GEN_RAISE_ERR(g, f->r.error);
    puts(f->r.value.s); /* print(result) */
    GEN_END(g);
}
static int delegator_body(gen *g)
{
    struct delegator *f = gen_locals(g);
    GEN_BEGIN(g);
    GEN_YIELD_FROM(g, f->sub);
    puts(gen_received(g).s); /* print(result) */
    GEN_END(g);
}
struct chars {
    const char *s;
    size_t i;
    char ch[2];
};

static int chars_body(gen *g)
{
    struct chars *f = gen_locals(g);
    GEN_BEGIN(g);
    for (f->i = 0; f->s[f->i] != '\0'; f->i++) {
        f->ch[0] = f->s[f->i];
        GEN_YIELD(g, gen_str(f->ch));
    }
    GEN_END(g);
}

static gen *chars(const char *s)
{
    return gen_new(chars_body, &(struct chars){.s = s}, sizeof(struct chars));
}
struct tim {
    gen *sub;
};

static int tim_body(gen *g)
{
    struct tim *f = gen_locals(g);
    GEN_BEGIN(g);
    f->sub = chars("tim");
    GEN_YIELD_FROM(g, f->sub);
    GEN_FINALLY(g);
    gen_free(f->sub);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    int by_hand = 0, status;
    const struct net_option opts[] = {
        {.name = "by-hand", .kind = NET_OPT_FLAG, .value = &by_hand,
         .help = "delegate by hand instead of GEN_YIELD_FROM"},
        {0},
    };
    if (net_parse_args(argc, argv, "[--by-hand]", opts, 0, &status) < 0)
        return status;   /* командная строка главы 1 */
    gen_result r;
    gen *sg = gen_new(sub_gen_body, NULL, sizeof(struct sub_gen));
    gen *g = gen_prime(gen_new(by_hand ? delegator_by_hand_body : delegator_body,
                               &(struct delegator){.sub = sg}, sizeof(struct delegator)),
                       &r);
    if (sg == NULL || g == NULL) {
        fprintf(stderr, "demo: cannot start the delegator: %s\n",
                g == NULL ? r.error.msg : "out of memory");
        gen_free(g);
        gen_free(sg);
        return 1;
    }
    gen_send(g, gen_str("My message"), &r);
    gen_send(g, gen_str("My message 2"), &r);
    gen_error e = gen_err(BLA_BLA, "BlaBlaException");
    gen_throw(g, &e, &r); /* sub_gen вернёт строку, delegator её напечатает */
    gen_free(g);
    gen_free(sg);

    gen *t = gen_new(tim_body, NULL, sizeof(struct tim));
    while (t != NULL && gen_next(t, &r) == GEN_YIELDED)
        puts(r.value.s);
    gen_free(t);
    return 0;
}
