/* Этот файл извлечён (tangle) из книги: book/05-generators.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>

struct countdown {
    int pc; /* точка возобновления: 0 -- начало тела */
    int n;  /* локальная переменная тела: живёт здесь, а не на стеке */
};

static struct countdown *countdown(int n)
{
    struct countdown *f = malloc(sizeof *f);
    if (f != NULL)
        *f = (struct countdown){.pc = 0, .n = n};
    return f;
}
#define YIELD(v)                                                         \
    do {                                                                 \
        *out = (v);                                                      \
        f->pc = __LINE__;                                                \
        return 1;                                                        \
    case __LINE__:;                                                      \
    } while (0)
/* Продолжить тело с точки возобновления: 1 и *out, если оно выдало
   значение; 0, если тело закончилось. */
static int countdown_next(struct countdown *f, int *out)
{
    switch (f->pc) {
    case 0:
        puts("старт");
        while (f->n > 0) {
            YIELD(f->n);
            f->n--;
        }
    }
    f->pc = -1; /* такой метки нет: дальше всегда «остановлен» */
    return 0;
}
int main(int argc, char **argv)
{
    int status;
    const struct net_option no_options[] = {{0}};
    if (net_parse_args(argc, argv, "", no_options, 0, &status) < 0)
        return status; /* --help или опечатка: командная строка главы 1 */
    struct countdown *g[2] = {countdown(3), countdown(2)};
    if (g[0] == NULL || g[1] == NULL) {
        fprintf(stderr, "toy: out of memory\n");
        free(g[0]);
        free(g[1]);
        return 1;
    }
    puts("созданы a = countdown(3) и b = countdown(2)");
    for (int round = 0; round < 4; round++)
        for (int k = 0; k < 2; k++) {
            int v;
            if (countdown_next(g[k], &v))
                printf("%c: %d\n", "ab"[k], v);
            else
                printf("%c: остановлен\n", "ab"[k]);
        }
    free(g[0]);
    free(g[1]);
    return 0;
}
