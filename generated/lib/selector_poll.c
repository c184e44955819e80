/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "selector_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct poll_impl {
    struct pollfd *fds;  /* то, что уходит в poll(2), без дыр */
    int n, cap;
    int *pos;            /* pos[fd] -- индекс fd в fds */
    int npos;
};

static int poll_init(selector *s)
{
    s->impl = calloc(1, sizeof(struct poll_impl));
    return s->impl ? 0 : -ENOMEM;
}

static void poll_fini(selector *s)
{
    struct poll_impl *im = s->impl;
    free(im->fds);
    free(im->pos);
    free(im);
}
static short poll_mask(int events)
{
    return (short)(((events & SELECTOR_READ) ? POLLIN : 0)
                   | ((events & SELECTOR_WRITE) ? POLLOUT : 0));
}

static int poll_add(selector *s, int fd, int events)
{
    struct poll_impl *im = s->impl;
    if (im->n == im->cap) {
        int cap = im->cap ? 2 * im->cap : 64;
        struct pollfd *p = realloc(im->fds, (size_t)cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        im->fds = p;
        im->cap = cap;
    }
    if (fd >= im->npos) {
        int npos = im->npos ? im->npos : 64;
        while (npos <= fd)
            npos *= 2;
        int *p = realloc(im->pos, (size_t)npos * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        im->pos = p;
        im->npos = npos;
    }
    im->fds[im->n] = (struct pollfd){.fd = fd, .events = poll_mask(events)};
    im->pos[fd] = im->n++;
    return 0;
}

static int poll_mod(selector *s, int fd, int old_events, int events)
{
    struct poll_impl *im = s->impl;
    (void)old_events;
    im->fds[im->pos[fd]].events = poll_mask(events);
    return 0;
}

static void poll_del(selector *s, int fd, int old_events)
{
    struct poll_impl *im = s->impl;
    (void)old_events;
    int i = im->pos[fd];
    im->fds[i] = im->fds[--im->n];  /* последний встаёт на место ушедшего */
    im->pos[im->fds[i].fd] = i;
}
static int poll_wait(selector *s, selector_event *ready, int cap,
                     int timeout_ms)
{
    struct poll_impl *im = s->impl;
    int n = poll(im->fds, (nfds_t)im->n, timeout_ms < 0 ? -1 : timeout_ms);
    if (n < 0)
        return -errno;
    int out = 0;
    for (int i = 0; i < im->n && out < n && out < cap; i++) {
        if (im->fds[i].revents == 0)
            continue;
        ready[out++] = (selector_event){
            .fd = im->fds[i].fd,
            .events = ready_events(im->fds[i].revents, POLLIN, POLLOUT)};
    }
    return out;
}
const struct selector_ops selector_poll_ops = {
    "poll", poll_init, poll_fini, poll_add, poll_mod, poll_del, poll_wait, 0,
};
