/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "selector_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>

struct select_impl {
    fd_set readers, writers;  /* образцы: копируются перед каждым вызовом */
    int maxfd;                /* наибольший наблюдаемый дескриптор или -1 */
};

static int select_init(selector *s)
{
    struct select_impl *im = malloc(sizeof *im);
    if (im == NULL)
        return -ENOMEM;
    FD_ZERO(&im->readers);
    FD_ZERO(&im->writers);
    im->maxfd = -1;
    s->impl = im;
    return 0;
}

static void select_fini(selector *s)
{
    free(s->impl);
}
static void select_set(struct select_impl *im, int fd, int events)
{
    FD_CLR(fd, &im->readers);
    FD_CLR(fd, &im->writers);
    if (events & SELECTOR_READ)
        FD_SET(fd, &im->readers);
    if (events & SELECTOR_WRITE)
        FD_SET(fd, &im->writers);
}

static int select_add(selector *s, int fd, int events)
{
    struct select_impl *im = s->impl;
    if (fd >= FD_SETSIZE)
        return -ERANGE;
    select_set(im, fd, events);
    if (fd > im->maxfd)
        im->maxfd = fd;
    return 0;
}

static int select_mod(selector *s, int fd, int old_events, int events)
{
    (void)old_events;
    select_set(s->impl, fd, events);
    return 0;
}

static void select_del(selector *s, int fd, int old_events)
{
    struct select_impl *im = s->impl;
    (void)old_events;
    select_set(im, fd, 0);
    while (im->maxfd >= 0 && !FD_ISSET(im->maxfd, &im->readers)
           && !FD_ISSET(im->maxfd, &im->writers))
        im->maxfd--;
}
static int select_wait(selector *s, selector_event *ready, int cap,
                       int timeout_ms)
{
    struct select_impl *im = s->impl;
    fd_set r = im->readers, w = im->writers;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int n = select(im->maxfd + 1, &r, &w, NULL, timeout_ms < 0 ? NULL : &tv);
    if (n < 0)
        return -errno;
    int out = 0;
    for (int fd = 0; fd <= im->maxfd && out < cap && n > 0; fd++) {
        int ev = (FD_ISSET(fd, &r) ? SELECTOR_READ : 0)
                 | (FD_ISSET(fd, &w) ? SELECTOR_WRITE : 0);
        if (ev == 0)
            continue;
        ready[out++] = (selector_event){.fd = fd, .events = ev};
        n -= (ev == (SELECTOR_READ | SELECTOR_WRITE)) ? 2 : 1;
    }
    return out;
}
const struct selector_ops selector_select_ops = {
    "select", select_init, select_fini, select_add,
    select_mod, select_del, select_wait, 0,
};
