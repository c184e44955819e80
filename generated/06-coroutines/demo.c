/* Этот файл извлечён (tangle) из книги: book/06-coroutines.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "gen.h"
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MY_EXCEPTION = 1 }; /* наш код для MyException оригинала */

static const char *py_repr(double x, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    if (strpbrk(buf, ".eni") == NULL && strlen(buf) + 2 < cap)
        strcat(buf, ".0");
    return buf;
}
static int sub_gen_body(gen *g)
{
    GEN_BEGIN(g);
    GEN_YIELD(g, gen_str("Ready to accept message"));
    printf("Sub_gen received: %s\n", gen_received(g).s);
    GEN_END(g);
}
struct average {
    int count;
    double sum;
    gen_value avg; /* «ничего», пока не пришло ни одного числа */
    gen_error e;   /* пойманная ошибка */
};

static int average_body(gen *g)
{
    struct average *f = gen_locals(g);
    GEN_BEGIN(g);
    f->avg = gen_none();
    for (;;) {
        GEN_YIELD_CATCH(g, f->avg, f->e);
        if (f->e.code == MY_EXCEPTION) {
            puts("My exception!");
            break;
        }
        if (f->e.code != 0)
            GEN_RAISE_ERR(g, f->e);
        f->count++;
        f->sum += gen_received(g).d;
        f->avg = gen_double(round(f->sum / f->count * 100) / 100);
    }
    GEN_RETURN(g, f->avg);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    int status;
    const struct net_option no_options[] = {{0}};
    if (net_parse_args(argc, argv, "", no_options, 0, &status) < 0)
        return status;   /* --help или опечатка: командная строка главы 1 */
    gen_result r;
    char buf[32];
    gen *g = gen_new(sub_gen_body, NULL, 0);
    if (g == NULL || gen_send(g, gen_none(), &r) != GEN_YIELDED) {
        fprintf(stderr, "demo: cannot start sub_gen\n");
        gen_free(g);
        return 1;
    }
    puts(r.value.s);
    gen_send(g, gen_str("Hello world!"), &r);
    gen_free(g);

    gen *avg = gen_prime(gen_new(average_body, NULL, sizeof(struct average)), &r);
    if (avg == NULL) {
        fprintf(stderr, "demo: cannot start average: %s\n", r.error.msg);
        return 1;
    }
    const double xs[] = {5, 4, 10};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        gen_send(avg, gen_double(xs[i]), &r);
        puts(py_repr(r.value.d, buf, sizeof buf));
    }
    gen_error e = gen_err(MY_EXCEPTION, "MyException");
    if (gen_throw(avg, &e, &r) == GEN_RETURNED)
        printf("Total average: %s\n", py_repr(r.value.d, buf, sizeof buf));
    gen_free(avg);
    return 0;
}
