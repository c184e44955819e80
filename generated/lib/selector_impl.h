/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef SELECTOR_IMPL_H
#define SELECTOR_IMPL_H

#include "selector.h"

#if defined(__linux__)
#define SELECTOR_HAVE_EPOLL 1
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) \
    || defined(__NetBSD__) || defined(__DragonFly__)
#define SELECTOR_HAVE_KQUEUE 1
#endif
struct selector_ops {
    const char *name;
    int (*init)(selector *s);
    void (*fini)(selector *s);
    int (*add)(selector *s, int fd, int events);
    int (*mod)(selector *s, int fd, int old_events, int events);
    void (*del)(selector *s, int fd, int old_events);
    int (*wait)(selector *s, selector_event *ready, int cap,
                int timeout_ms);
    int add_sees_closed;  /* add сам отвечает -EBADF на закрытый fd */
};

extern const struct selector_ops selector_epoll_ops;
extern const struct selector_ops selector_kqueue_ops;
extern const struct selector_ops selector_poll_ops;
extern const struct selector_ops selector_select_ops;
struct selector {
    const struct selector_ops *ops;
    selector_key *keys;  /* keys[fd]; events == 0 -- свободная ячейка */
    int nslots;          /* длина keys */
    size_t count;        /* сколько дескрипторов зарегистрировано */
    void *impl;          /* личное состояние бэкенда */
};
/* Как в Python: всё, кроме чистого "можно читать", будит и писателя;
   всё, кроме чистого "можно писать", будит и читателя. Ошибка и
   обрыв (POLLERR, POLLHUP, POLLNVAL) будят обоих: пусть узнают из
   recv или send, что случилось, -- и ставят SELECTOR_ERROR. */
static inline int ready_events(int revents, int in, int out)
{
    int ev = 0;
    if (revents & ~in)
        ev |= SELECTOR_WRITE;
    if (revents & ~out)
        ev |= SELECTOR_READ;
    if (revents & ~(in | out))
        ev |= SELECTOR_ERROR;
    return ev;
}

#endif
