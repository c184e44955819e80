/* Этот файл извлечён (tangle) из книги: book/08-event-loop.nw book/09-tasks.nw book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef AIO_IMPL_H
#define AIO_IMPL_H

#include "aio.h"
#include "selector.h"

enum { AIO_NOWHERE, AIO_IN_READY, AIO_IN_HEAP };

struct aio_handle {
    aio_loop *loop;
    aio_callback *fn;
    void *arg;
    aio_callback *drop;      /* зовётся вместо fn, если цикл закрыт */
    double when;             /* таймер: срок по часам цикла */
    unsigned long long seq;  /* таймер: номер постановки, для ничьих */
    struct aio_handle *next; /* очередь готовых */
    aio_io_callback *io_fn;  /* колбэк дескриптора (вместо fn) */
    unsigned char where;     /* AIO_NOWHERE, AIO_IN_READY, AIO_IN_HEAP */
    unsigned char cancelled;
    unsigned char io;        /* принадлежит дескриптору: не освобождать */
    unsigned char events;    /* для io_fn: что сообщил селектор */
};
enum { AIO_PENDING, AIO_FINISHED, AIO_CANCELLED };
enum { AIO_FUTURE_MAGIC = 0x46757472 };  /* "Futr" */

/* «Класс» Future: то, чем Task, gather и операции с сокетами отличаются
   от простого Future. NULL в поле -- поведение базового Future. */
struct aio_future_class {
    const char *name;
    int (*cancel)(aio_future *f, const char *msg);
    void (*destroy)(aio_future *f);     /* освободить своё, не сам f */
    size_t size;                        /* сколько памяти вернуть циклу */
};

struct aio_done_cb {
    aio_done_callback *fn;
    void *arg;
    aio_future *fut;       /* пока колбэк в очереди: ссылка на Future */
    aio_handle *h;         /* хэндл очереди, взятый при подписке */
    int keep_arg;          /* arg -- Future, на который взята ссылка */
    struct aio_done_cb *next;
};

struct aio_future {
    unsigned magic;                    /* AIO_FUTURE_MAGIC */
    const struct aio_future_class *cls;
    aio_loop *loop;
    int refs;
    int state;                         /* AIO_PENDING... */
    int retrieved;                     /* исход кто-то забрал */
    gen_value result;
    gen_error error;                   /* code != 0 -- ошибка */
    struct aio_done_cb *callbacks;     /* ждут завершения, по порядку */
    aio_handle *timer;                 /* таймер, который завершит f */
};
struct aio_task {
    aio_future fut;             /* задача -- это Future: первое поле */
    gen *coro;                  /* корутина, которую ведёт задача */
    aio_future *waiter;         /* чего ждёт (своя ссылка) или NULL */
    int must_cancel;            /* отмену просили, когда ждать было нечего */
    int throw_next;             /* следующий шаг бросит fut.error */
    struct aio_task *prev, *next;   /* список незавершённых задач цикла */
};
enum { AIO_NPOOLS = 8, AIO_SLAB = 32 };

struct aio_pool {
    size_t size;            /* размер блоков; 0 -- место свободно */
    void *head;             /* первый свободный блок, в нём -- следующий */
    void *chunks;           /* куски по AIO_SLAB блоков, для закрытия */
};

/* Блок size байтов, заполненный нулями: из списка свободных блоков
   цикла или от calloc. NULL -- нет памяти. */
void *aio__alloc(aio_loop *loop, size_t size);

/* Вернуть блок, полученный от aio__alloc с тем же size. NULL -- ничего. */
void aio__free(aio_loop *loop, void *p, size_t size);
struct aio_io {                      /* запись дескриптора (глава 10) */
    aio_handle *reader, *writer;
    struct aio_io *prev, *next;      /* список всех записей цикла */
};

typedef void aio_close_fn(aio_loop *loop, void *arg);

struct aio_close_hook {
    aio_close_fn *fn;                /* NULL -- место свободно */
    void *arg;
};

enum { AIO_MAX_EVENTS = 1024, AIO_NSIG = 65, AIO_MAX_CLOSE_HOOKS = 4 };

struct aio_loop {
    selector *sel;
    selector_event *events;          /* AIO_MAX_EVENTS мест */
    aio_handle *ready_head, *ready_tail;
    size_t nready;
    aio_handle **heap;               /* куча таймеров */
    size_t nheap, heap_cap, ncancelled;
    unsigned long long seq;
    struct aio_io *ios;              /* записи дескрипторов */
    int running, stopping, closed;
    struct aio_close_hook close_hooks[AIO_MAX_CLOSE_HOOKS];
    int sig_read_fd, sig_write_fd;   /* труба для сигналов */
    aio_handle sig[AIO_NSIG];        /* fn и arg обработчиков */
    struct aio_pool pools[AIO_NPOOLS]; /* свободные блоки (глава 10) */
};
/* Хэндл для колбэка, который нельзя потерять: его берут заранее,
   пока про нехватку памяти ещё можно сказать (NULL -- нет памяти),
   а в очередь ставят потом, когда сказать уже некому. */
aio_handle *aio__handle_new(aio_loop *loop);

/* Поставить в очередь готовых хэндл от aio__handle_new; не может не
   удаться. drop(arg) -- вместо fn(arg), если цикл закроют раньше
   (если он уже закрывается -- сразу). */
void aio__handle_soon(aio_handle *h, aio_callback *fn, aio_callback *drop,
                      void *arg);

/* Вернуть хэндл от aio__handle_new, который не ставили в очередь. */
void aio__handle_free(aio_handle *h);

/* Колбэк закрытия: aio_loop_free позовёт fn(loop, arg) до того, как
   выбросить очередь и таймеры. 0, -ESHUTDOWN (цикл уже закрывается)
   или -ENOSPC (мест нет). */
int aio__add_close_hook(aio_loop *loop, aio_close_fn *fn, void *arg);

/* arg колбэка закрытия fn или NULL, если такого нет: по нему модуль
   находит свои данные об этом цикле. */
void *aio__close_hook_arg(const aio_loop *loop, aio_close_fn *fn);
void aio__future_init(aio_future *f, aio_loop *loop,
                      const struct aio_future_class *cls);
int aio__future_cancel_base(aio_future *f, const char *msg);
/* Колбэк, который держит ссылку на Future arg, пока не выполнится. */
int aio__add_done_callback_ref(aio_future *f, aio_done_callback *fn,
                               aio_future *arg);
/* Уже занят ли fd операцией чтения (writer == 0) или записи. */
int aio__io_busy(aio_loop *loop, int fd, int writer);
/* Снять читателя (writer == 0) или писателя fd; lazy -- не трогая
   селектор (глава 10). 1 -- колбэк был и снят, 0 -- его не было. */
int aio__remove_io(aio_loop *loop, int fd, int writer, int lazy);
/* Отменить все незавершённые задачи цикла (для aio_loop_shutdown). */
void aio__cancel_tasks(aio_loop *loop, const char *msg);

#endif
