/* Этот файл извлечён (tangle) из книги: book/05-generators.nw book/06-coroutines.nw book/07-delegation.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef GEN_H
#define GEN_H

#include <stddef.h>

typedef enum gen_kind { GEN_NONE, GEN_INT, GEN_DOUBLE, GEN_PTR, GEN_STR } gen_kind;

typedef struct gen_value {
    gen_kind kind;
    union {
        long long i;   /* GEN_INT */
        double d;      /* GEN_DOUBLE */
        void *p;       /* GEN_PTR: владеет им не генератор */
        const char *s; /* GEN_STR: тоже не копируется */
    };
} gen_value;

static inline gen_value gen_none(void) { return (gen_value){.kind = GEN_NONE}; }
static inline gen_value gen_int(long long i) { return (gen_value){.kind = GEN_INT, .i = i}; }
static inline gen_value gen_double(double d) { return (gen_value){.kind = GEN_DOUBLE, .d = d}; }
static inline gen_value gen_ptr(void *p) { return (gen_value){.kind = GEN_PTR, .p = p}; }
static inline gen_value gen_str(const char *s) { return (gen_value){.kind = GEN_STR, .s = s}; }
enum { GEN_MSG_MAX = 96 };

typedef struct gen_error {
    int code;              /* 0 -- ошибки нет */
    gen_value payload;     /* что угодно для того, кто поймает */
    char msg[GEN_MSG_MAX]; /* текст: что не получилось и почему */
} gen_error;

/* Ошибка с кодом code и текстом по формату printf. */
gen_error gen_err(int code, const char *fmt, ...);

/* Коды самой библиотеки; свои коды выбирайте вне этого диапазона. */
enum {
    GEN_ERUNNING = -10001, /* генератор уже выполняется */
    GEN_EXIT = -10002,     /* выход из генератора: его бросает gen_close (GeneratorExit) */
    GEN_ESENDNEW = -10003, /* значение отправлено только что созданному (TypeError) */
    GEN_EIGNORED = -10004, /* генератор уступил вместо выхода (RuntimeError) */
    GEN_ENOCODE = -10005,  /* ошибка с кодом 0 -- урок PEP 479 */
    GEN_ENOSUB = -10006, /* GEN_YIELD_FROM с NULL */
    GEN_EDEPTH = -10007, /* цепочка GEN_YIELD_FROM глубже GEN_MAX_DEPTH */
};
typedef enum gen_status {
    GEN_YIELDED,  /* выдал value и приостановлен */
    GEN_RETURNED, /* закончился; value -- возвращённое значение */
    GEN_FAILED    /* закончился ошибкой error (или его нельзя возобновить) */
} gen_status;

typedef struct gen_result {
    gen_status status;
    gen_value value; /* при GEN_YIELDED и GEN_RETURNED */
    gen_error error; /* при GEN_FAILED */
} gen_result;
typedef enum gen_state {
    GEN_CREATED,   /* создан, тело ещё не начиналось */
    GEN_RUNNING,   /* тело выполняется прямо сейчас */
    GEN_SUSPENDED, /* остановилось на GEN_YIELD */
    GEN_CLOSED     /* закончилось; возобновлять бесполезно */
} gen_state;

typedef struct gen gen;
typedef int gen_body(gen *g);

struct gen {
    gen_body *body;  /* функция тела */
    int pc;          /* точка возобновления: 0 -- начало */
    gen_state state;
    gen_value out;   /* что выдал последний GEN_YIELD */
    gen_value in;  /* что получила последняя точка остановки */
    gen_value ret; /* что вернёт тело (GEN_RETURN); изначально «ничего» */
    gen_error err; /* ошибка в полёте: брошенная внутрь или поднятая телом */
    gen *sub; /* подгенератор, которому тело делегирует (GEN_YIELD_FROM) */
    gen *leaf;                     /* самое внутреннее звено цепочки под нами */
    unsigned long long leaf_epoch; /* leaf верен, пока chain_epoch тот же */
    gen *fast_root;                /* у внутреннего: кто возобновил его напрямую */
    const char *name; /* имя тела для трассы (приложение А): "letters_body" */
    int lane;         /* дорожка трассы; 0 -- ещё не выдана */
    max_align_t locals[]; /* кадр: локальные переменные тела */
};
/* Новый генератор с телом body и кадром size байт, скопированным из init
   (или нулевым, если init == NULL). Тело не запускается. NULL, если нет памяти. */
gen *gen_new(gen_body *body, const void *init, size_t size);
/* Тот же gen_new, но запоминает имя тела: gen_new(letters_body, ...)
   даёт генератор с name == "letters_body". */
#define gen_new(body, ...) gen__named(gen_new(body, __VA_ARGS__), #body)
gen *gen__named(gen *g, const char *name);

/* Освобождает генератор. Приостановленный сначала закрывается (gen_close,
   глава 6): его GEN_FINALLY успевает освободить то, что держит кадр.
   Освобождать выполняющийся генератор -- ошибка программы (abort). */
void gen_free(gen *g);

/* Продолжить до следующего GEN_YIELD или до конца. Результат и в *r
   (если r != NULL), и в возвращаемом статусе. */
gen_status gen_next(gen *g, gen_result *r);

gen_state gen_get_state(const gen *g);

/* Кадр генератора: тело приводит его к своей структуре. */
static inline void *gen_locals(gen *g) { return g->locals; }
/* Возобновить, отправив v: v станет значением точки остановки (gen_received).
   Только что созданному можно отправить лишь gen_none(), иначе GEN_ESENDNEW. */
gen_status gen_send(gen *g, gen_value v, gen_result *r);

/* Возобновить, бросив *e в точку остановки. Созданный генератор
   закрывается, не начав тела; закрытый возвращает *e обратно. */
gen_status gen_throw(gen *g, const gen_error *e, gen_result *r);

/* Закрыть: бросить GEN_EXIT и дождаться конца тела. GEN_RETURNED (value --
   то, что тело вернуло, если вернуло) или GEN_FAILED: тело уступило
   (GEN_EIGNORED) или закончилось другой ошибкой. Созданный и закрытый
   генератор закрываются без выполнения тела. */
gen_status gen_close(gen *g, gen_result *r);

/* Запустить корутину до первой остановки (декоратор coroutine оригинала).
   Возвращает g, если он уступил; иначе освобождает его и возвращает NULL,
   а *r объясняет, что случилось. g == NULL (нет памяти) -- тоже NULL. */
gen *gen_prime(gen *g, gen_result *r);

/* Внутри тела: что получила последняя точка остановки. */
static inline gen_value gen_received(const gen *g) { return g->in; }

/* Для макросов. */
void gen__catch(gen *g, gen_error *into);
void gen__set_err(gen *g, const gen_error *e);
/* Сколько звеньев GEN_YIELD_FROM может пересылать сразу (RecursionError). */
enum { GEN_MAX_DEPTH = 10000 };
#define GEN_BEGIN(g)                                                     \
    gen__dispatch:                                                       \
    switch ((g)->pc) {                                                   \
    case 0:
enum { GEN__YIELD = 1, GEN__END = 2 }; /* что тело сообщает библиотеке */

#define GEN__SUSPEND(g, signal)                                          \
    if ((g)->pc == GEN__PC_FINALLY)                                      \
        gen__misuse((g), "yield in GEN_FINALLY", __FILE__, __LINE__);    \
    (g)->pc = __LINE__;                                                  \
    return (signal);                                                     \
    case __LINE__:

#define GEN_YIELD(g, v)                                                  \
    do {                                                                 \
        (g)->out = (v);                                                  \
        GEN__SUSPEND(g, GEN__YIELD)                                      \
        GEN__RAISE_IF_THROWN(g);                                         \
    } while (0)

/* Сообщить о неправильном употреблении макросов и остановить программу. */
void gen__misuse(const gen *g, const char *what, const char *file, int line);
enum { GEN__PC_FINALLY = -1 };

#define GEN_FINALLY(g)                                                   \
        (g)->pc = GEN__PC_FINALLY;                                       \
        goto gen__finally;                                               \
    case GEN__PC_FINALLY:                                                \
    gen__finally:
#define GEN_END(g)                                                       \
        goto gen__end;                                                   \
    default:                                                             \
        if ((g)->pc != GEN__PC_FINALLY)                                  \
            gen__misuse((g), "lost resume point (GEN_YIELD inside a switch?)", \
                        __FILE__, __LINE__);                             \
    gen__end:;                                                           \
    }                                                                    \
    if (0)                                                               \
        goto gen__dispatch;                                              \
    return GEN__END
#define GEN__UNWIND(g)                                                   \
    do {                                                                 \
        if ((g)->pc == GEN__PC_FINALLY)                                  \
            goto gen__end;                                               \
        (g)->pc = GEN__PC_FINALLY;                                       \
        goto gen__dispatch;                                              \
    } while (0)
#define GEN__RAISE_IF_THROWN(g)                                          \
    do {                                                                 \
        if ((g)->err.code != 0)                                          \
            GEN__UNWIND(g);                                              \
    } while (0)
#define GEN_YIELD_CATCH(g, v, e)                                         \
    do {                                                                 \
        (g)->out = (v);                                                  \
        GEN__SUSPEND(g, GEN__YIELD)                                      \
        gen__catch((g), &(e));                                           \
    } while (0)
#define GEN_RETURN(g, v)                                                 \
    do {                                                                 \
        (g)->ret = (v);                                                  \
        (g)->err.code = 0;                                               \
        GEN__UNWIND(g);                                                  \
    } while (0)

#define GEN_RAISE(g, ...)                                                \
    do {                                                                 \
        (g)->err = gen_err(__VA_ARGS__);                                 \
        GEN__UNWIND(g);                                                  \
    } while (0)

#define GEN_RAISE_ERR(g, e)                                              \
    do {                                                                 \
        gen__set_err((g), &(e));                                         \
        GEN__UNWIND(g);                                                  \
    } while (0)
enum { GEN__DELEGATE = 3 }; /* тело просит: возобнови вместо меня g->sub */

#define GEN_YIELD_FROM(g, s)                                             \
    do {                                                                 \
        (g)->sub = (s);                                                  \
        GEN__SUSPEND(g, GEN__DELEGATE)                                   \
        GEN__RAISE_IF_THROWN(g);                                         \
    } while (0)

#define GEN_YIELD_FROM_CATCH(g, s, e)                                    \
    do {                                                                 \
        (g)->sub = (s);                                                  \
        GEN__SUSPEND(g, GEN__DELEGATE)                                   \
        gen__catch((g), &(e));                                           \
    } while (0)

#endif
