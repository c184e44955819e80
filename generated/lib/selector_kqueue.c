/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "selector_impl.h"

#ifdef SELECTOR_HAVE_KQUEUE
#include <errno.h>
#include <stdlib.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

struct kqueue_impl {
    int kq;
    struct kevent *buf;
    int cap;
};

static int kqueue_init(selector *s)
{
    struct kqueue_impl *im = calloc(1, sizeof *im);
    if (im == NULL)
        return -ENOMEM;
    im->kq = kqueue();
    if (im->kq < 0) {
        int e = errno;
        free(im);
        return -e;
    }
    s->impl = im;
    return 0;
}

static void kqueue_fini(selector *s)
{
    struct kqueue_impl *im = s->impl;
    close(im->kq);
    free(im->buf);
    free(im);
}
/* В kqueue чтение и запись -- два разных фильтра одного дескриптора:
   переход old -> events выражается добавлением и удалением фильтров. */
static int kqueue_change(selector *s, int fd, int old_events, int events)
{
    struct kqueue_impl *im = s->impl;
    struct kevent ch[2];
    int n = 0;
    static const struct { int flag; short filter; } map[] = {
        {SELECTOR_READ, EVFILT_READ}, {SELECTOR_WRITE, EVFILT_WRITE}};
    for (int i = 0; i < 2; i++) {
        int was = old_events & map[i].flag, now = events & map[i].flag;
        if (was != now) {
            EV_SET(&ch[n], fd, map[i].filter, now ? EV_ADD : EV_DELETE,
                   0, 0, NULL);
            n++;
        }
    }
    return kevent(im->kq, ch, n, NULL, 0, NULL) < 0 ? -errno : 0;
}

static int kqueue_add(selector *s, int fd, int events)
{
    return kqueue_change(s, fd, 0, events);
}

static int kqueue_mod(selector *s, int fd, int old_events, int events)
{
    return kqueue_change(s, fd, old_events, events);
}

static void kqueue_del(selector *s, int fd, int old_events)
{
    (void)kqueue_change(s, fd, old_events, 0);
}
static int kqueue_wait(selector *s, selector_event *ready, int cap,
                       int timeout_ms)
{
    struct kqueue_impl *im = s->impl;
    if (cap > im->cap) {
        struct kevent *b = realloc(im->buf, (size_t)cap * sizeof *b);
        if (b == NULL)
            return -ENOMEM;
        im->buf = b;
        im->cap = cap;
    }
    struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    int n = kevent(im->kq, NULL, 0, im->buf, cap,
                   timeout_ms < 0 ? NULL : &ts);
    if (n < 0)
        return -errno;
    int out = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)im->buf[i].ident;
        int ev = im->buf[i].filter == EVFILT_READ ? SELECTOR_READ
                                                  : SELECTOR_WRITE;
        if (im->buf[i].flags & EV_ERROR)
            ev = SELECTOR_READ | SELECTOR_WRITE | SELECTOR_ERROR;
        int j = 0;
        while (j < out && ready[j].fd != fd)
            j++;
        if (j == out)
            ready[out++] = (selector_event){.fd = fd, .events = 0};
        ready[j].events |= ev;
    }
    return out;
}
const struct selector_ops selector_kqueue_ops = {
    "kqueue", kqueue_init, kqueue_fini, kqueue_add,
    kqueue_mod, kqueue_del, kqueue_wait, 1,
};
#else
typedef int selector_kqueue_unavailable;
#endif
