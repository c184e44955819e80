/* Этот файл извлечён (tangle) из книги: book/08-asyncio.nw.
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
    unsigned char where;     /* AIO_NOWHERE, AIO_IN_READY, AIO_IN_HEAP */
    unsigned char cancelled;
    unsigned char io;        /* принадлежит дескриптору: не освобождать */
};
struct aio_io {
    aio_handle *reader, *writer;
};

enum { AIO_MAX_EVENTS = 1024, AIO_NSIG = 65 };

struct aio_loop {
    selector *sel;
    selector_event *events;          /* AIO_MAX_EVENTS мест */
    aio_handle *ready_head, *ready_tail;
    size_t nready;
    aio_handle **heap;               /* куча таймеров */
    size_t nheap, heap_cap, ncancelled;
    unsigned long long seq;
    struct aio_io *io;               /* io[fd] */
    int nio;
    int running, stopping, closed;
    int unused_tasks_placeholder;
    int sig_read_fd, sig_write_fd;   /* труба для сигналов */
    aio_handle sig[AIO_NSIG];        /* fn и arg обработчиков */
};
/* Ручка для очереди готовых с колбэком drop на случай закрытия цикла. */
aio_handle *aio__call_soon_drop(aio_loop *loop, aio_callback *fn,
                                aio_callback *drop, void *arg);

#endif
