/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "selector_impl.h"

#ifdef SELECTOR_HAVE_EPOLL
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct epoll_impl {
    int epfd;                   /* сам объект epoll -- тоже дескриптор */
    struct epoll_event *buf;    /* куда epoll_wait пишет готовые */
    int cap;
};

static int epoll_init(selector *s)
{
    struct epoll_impl *im = calloc(1, sizeof *im);
    if (im == NULL)
        return -ENOMEM;
    im->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (im->epfd < 0) {
        int e = errno;
        free(im);
        return -e;
    }
    s->impl = im;
    return 0;
}

static void epoll_fini(selector *s)
{
    struct epoll_impl *im = s->impl;
    close(im->epfd);
    free(im->buf);
    free(im);
}
static int epoll_ctl_events(selector *s, int op, int fd, int events)
{
    struct epoll_impl *im = s->impl;
    struct epoll_event ev = {0};
    ev.events = ((events & SELECTOR_READ) ? EPOLLIN : 0u)
                | ((events & SELECTOR_WRITE) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    return epoll_ctl(im->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

static int epoll_add(selector *s, int fd, int events)
{
    return epoll_ctl_events(s, EPOLL_CTL_ADD, fd, events);
}

static int epoll_mod(selector *s, int fd, int old_events, int events)
{
    (void)old_events;
    return epoll_ctl_events(s, EPOLL_CTL_MOD, fd, events);
}

static void epoll_del(selector *s, int fd, int old_events)
{
    (void)old_events;
    (void)epoll_ctl_events(s, EPOLL_CTL_DEL, fd, 0); /* закрытый: EBADF */
}
static int epoll_wait_ready(selector *s, selector_event *ready, int cap,
                            int timeout_ms)
{
    struct epoll_impl *im = s->impl;
    if (cap > im->cap) {
        struct epoll_event *b = realloc(im->buf, (size_t)cap * sizeof *b);
        if (b == NULL)
            return -ENOMEM;
        im->buf = b;
        im->cap = cap;
    }
    int n = epoll_wait(im->epfd, im->buf, cap, timeout_ms < 0 ? -1 : timeout_ms);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++)
        ready[i] = (selector_event){
            .fd = im->buf[i].data.fd,
            .events = ready_events((int)im->buf[i].events, EPOLLIN, EPOLLOUT)};
    return n;
}
const struct selector_ops selector_epoll_ops = {
    "epoll", epoll_init, epoll_fini, epoll_add,
    epoll_mod, epoll_del, epoll_wait_ready, 1,
};
#else
typedef int selector_epoll_unavailable;  /* пустой файл ISO C запрещает */
#endif
