/* Этот файл извлечён (tangle) из книги: book/04-selectors.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "selector_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static const struct selector_ops *const backends[] = {
#ifdef SELECTOR_HAVE_EPOLL
    &selector_epoll_ops,
#endif
#ifdef SELECTOR_HAVE_KQUEUE
    &selector_kqueue_ops,
#endif
    &selector_poll_ops,
    &selector_select_ops,
};
enum { NBACKENDS = sizeof backends / sizeof backends[0] };

const char *selector_backend_at(size_t i)
{
    return i < NBACKENDS ? backends[i]->name : NULL;
}
int selector_new(selector **out, const char *backend)
{
    if (backend == NULL || *backend == '\0')
        backend = getenv("SELECTOR_BACKEND");
    size_t first = 0, end = NBACKENDS;     /* пробовать backends[first..end) */
    if (backend != NULL && *backend != '\0') {
        first = NBACKENDS;
        for (size_t i = 0; i < NBACKENDS; i++)
            if (strcmp(backends[i]->name, backend) == 0)
                first = i;
        if (first == NBACKENDS)
            return -EINVAL;
        end = first + 1;                   /* названный -- только он */
    }
    selector *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = first; i < end; i++) {
        s->ops = backends[i];
        int r = s->ops->init(s);
        if (r == 0) {
            *out = s;
            return 0;
        }
        if (rc == 0)
            rc = r;                        /* ошибка лучшего из бэкендов */
    }
    free(s);
    return rc;
}

void selector_free(selector *s)
{
    if (s == NULL)
        return;
    s->ops->fini(s);
    free(s->keys);
    free(s);
}

const char *selector_backend_name(const selector *s)
{
    return s->ops->name;
}
static selector_key *slot(selector *s, int fd, int grow)
{
    if (fd < s->nslots)
        return &s->keys[fd];
    if (!grow)
        return NULL;
    int n = s->nslots ? s->nslots : 64;
    while (n <= fd)
        n *= 2;
    selector_key *k = realloc(s->keys, (size_t)n * sizeof *k);
    if (k == NULL)
        return NULL;
    memset(k + s->nslots, 0, (size_t)(n - s->nslots) * sizeof *k);
    s->keys = k;
    s->nslots = n;
    return &k[fd];
}
static int bad_events(int events)
{
    return events == 0 || (events & ~(SELECTOR_READ | SELECTOR_WRITE));
}
int selector_register(selector *s, int fd, int events, void *data)
{
    if (fd < 0 || (!s->ops->add_sees_closed && fcntl(fd, F_GETFD) < 0))
        return -EBADF;
    if (bad_events(events))
        return -EINVAL;
    if (fd < s->nslots && s->keys[fd].events != 0)
        return -EEXIST;
    selector_key *k = slot(s, fd, 1);
    if (k == NULL)
        return -ENOMEM;
    int rc = s->ops->add(s, fd, events);
    if (rc < 0)
        return rc;
    *k = (selector_key){.fd = fd, .events = events, .data = data};
    s->count++;
    return 0;
}
int selector_modify(selector *s, int fd, int events, void *data)
{
    selector_key *k = fd >= 0 ? slot(s, fd, 0) : NULL;
    if (k == NULL || k->events == 0)
        return -ENOENT;
    if (bad_events(events))
        return -EINVAL;
    if (events != k->events) {
        int rc = s->ops->mod(s, fd, k->events, events);
        if (rc < 0)
            return rc;
        k->events = events;
    }
    k->data = data;
    return 0;
}
int selector_unregister(selector *s, int fd)
{
    selector_key *k = fd >= 0 ? slot(s, fd, 0) : NULL;
    if (k == NULL || k->events == 0)
        return -ENOENT;
    s->ops->del(s, fd, k->events);
    *k = (selector_key){.fd = -1};
    s->count--;
    return 0;
}
const selector_key *selector_get_key(const selector *s, int fd)
{
    if (fd < 0 || fd >= s->nslots || s->keys[fd].events == 0)
        return NULL;
    return &s->keys[fd];
}

size_t selector_count(const selector *s)
{
    return s->count;
}
int selector_select(selector *s, selector_event *ready, int cap,
                    int timeout_ms)
{
    if (ready == NULL || cap < 1)
        return -EINVAL;
    int n = s->ops->wait(s, ready, cap, timeout_ms);
    int out = 0;
    for (int i = 0; i < n; i++) {
        const selector_key *k = selector_get_key(s, ready[i].fd);
        int ev = k ? ready[i].events & k->events : 0;
        if (ev == 0)
            continue;
        ev |= ready[i].events & SELECTOR_ERROR;
        ready[out] = (selector_event){ready[i].fd, ev, k->data};
        out++;
    }
    return n < 0 ? n : out;
}
