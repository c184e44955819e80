/* Этот файл извлечён (tangle) из книги: book/08-event-loop.nw book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double aio_time(const aio_loop *loop)
{
    (void)loop;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

static struct aio_pool *pool_for(aio_loop *loop, size_t size)
{
    for (int i = 0; i < AIO_NPOOLS; i++) {
        struct aio_pool *p = &loop->pools[i];
        if (p->size == 0)
            p->size = size;
        if (p->size == size)
            return p;
    }
    return NULL;                       /* все места заняты другими */
}

static void push_block(struct aio_pool *p, void *block)
{
    *(void **)block = p->head;
    p->head = block;
    ASAN_POISON_MEMORY_REGION(block, p->size);
}

static int refill(struct aio_pool *p)
{
    size_t align = sizeof(max_align_t);
    size_t stride = (p->size + align - 1) / align * align;
    char *chunk = malloc(align + AIO_SLAB * stride);
    if (chunk == NULL)
        return -ENOMEM;
    *(void **)chunk = p->chunks;
    p->chunks = chunk;
    for (int i = AIO_SLAB; i-- > 0;)   /* первый блок куска -- первым */
        push_block(p, chunk + align + (size_t)i * stride);
    return 0;
}

void *aio__alloc(aio_loop *loop, size_t size)
{
    struct aio_pool *p = pool_for(loop, size);
    if (p == NULL)
        return calloc(1, size);
    if (p->head == NULL && refill(p) < 0)
        return NULL;
    void *block = p->head;
    ASAN_UNPOISON_MEMORY_REGION(block, size);
    p->head = *(void **)block;
    return memset(block, 0, size);
}

void aio__free(aio_loop *loop, void *block, size_t size)
{
    if (block == NULL)
        return;
    struct aio_pool *p = pool_for(loop, size);
    if (p == NULL)
        free(block);                   /* был от calloc: мест не хватило */
    else
        push_block(p, block);
}

static void drain_pools(aio_loop *loop)
{
    for (int i = 0; i < AIO_NPOOLS; i++) {
        struct aio_pool *p = &loop->pools[i];
        while (p->chunks != NULL) {
            void *chunk = p->chunks;
            p->chunks = *(void **)chunk;
            free(chunk);
        }
        p->head = NULL;
    }
}
static void ready_push(aio_loop *loop, aio_handle *h)
{
    h->next = NULL;
    h->where = AIO_IN_READY;
    if (loop->ready_tail != NULL)
        loop->ready_tail->next = h;
    else
        loop->ready_head = h;
    loop->ready_tail = h;
    loop->nready++;
}

static aio_handle *ready_pop(aio_loop *loop)
{
    aio_handle *h = loop->ready_head;
    if (h == NULL)
        return NULL;
    loop->ready_head = h->next;
    if (loop->ready_head == NULL)
        loop->ready_tail = NULL;
    loop->nready--;
    h->next = NULL;
    h->where = AIO_NOWHERE;
    return h;
}
static int earlier(const aio_handle *a, const aio_handle *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void sift_up(aio_handle **heap, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(heap[i], heap[parent]))
            break;
        aio_handle *t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
    }
}

static void sift_down(aio_handle **heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < n && earlier(heap[l], heap[min]))
            min = l;
        if (r < n && earlier(heap[r], heap[min]))
            min = r;
        if (min == i)
            return;
        aio_handle *t = heap[i];
        heap[i] = heap[min];
        heap[min] = t;
        i = min;
    }
}
static int heap_push(aio_loop *loop, aio_handle *h)
{
    if (loop->nheap == loop->heap_cap) {
        size_t cap = loop->heap_cap ? 2 * loop->heap_cap : 64;
        aio_handle **heap = realloc(loop->heap, cap * sizeof *heap);
        if (heap == NULL)
            return -ENOMEM;
        loop->heap = heap;
        loop->heap_cap = cap;
    }
    h->where = AIO_IN_HEAP;
    loop->heap[loop->nheap++] = h;
    sift_up(loop->heap, loop->nheap - 1);
    return 0;
}

static aio_handle *heap_pop(aio_loop *loop)
{
    aio_handle *top = loop->heap[0];
    loop->heap[0] = loop->heap[--loop->nheap];
    sift_down(loop->heap, loop->nheap, 0);
    top->where = AIO_NOWHERE;
    if (top->cancelled)
        loop->ncancelled--;
    return top;
}
static aio_handle *new_handle(aio_loop *loop, aio_callback *fn, void *arg)
{
    if (loop->closed)
        return NULL;
    aio_handle *h = aio__alloc(loop, sizeof *h);
    if (h != NULL) {
        h->loop = loop;
        h->fn = fn;
        h->arg = arg;
    }
    return h;
}

static void free_handle(aio_handle *h)
{
    if (h != NULL)
        aio__free(h->loop, h, sizeof *h);
}

aio_handle *aio__handle_new(aio_loop *loop)
{
    aio_handle *h = aio__alloc(loop, sizeof *h);
    if (h != NULL)
        h->loop = loop;
    return h;
}

void aio__handle_soon(aio_handle *h, aio_callback *fn, aio_callback *drop,
                      void *arg)
{
    if (h->loop->closed) {             /* итераций больше не будет */
        free_handle(h);
        drop(arg);
        return;
    }
    h->fn = fn;
    h->drop = drop;
    h->arg = arg;
    ready_push(h->loop, h);
}

void aio__handle_free(aio_handle *h)
{
    free_handle(h);
}

aio_handle *aio_call_soon(aio_loop *loop, aio_callback *fn, void *arg)
{
    aio_handle *h = new_handle(loop, fn, arg);
    if (h != NULL)
        ready_push(loop, h);
    return h;
}
aio_handle *aio_call_at(aio_loop *loop, double when, aio_callback *fn,
                        void *arg)
{
    aio_handle *h = new_handle(loop, fn, arg);
    if (h == NULL)
        return NULL;
    h->when = when;
    h->seq = loop->seq++;
    TRACE(instant(TRACE_LOOP, "timer armed", NULL));
    if (heap_push(loop, h) < 0) {
        free_handle(h);
        return NULL;
    }
    return h;
}

aio_handle *aio_call_later(aio_loop *loop, double delay, aio_callback *fn,
                           void *arg)
{
    return aio_call_at(loop, aio_time(loop) + delay, fn, arg);
}
void aio_handle_cancel(aio_handle *h)
{
    if (h == NULL || h->cancelled)
        return;
    h->cancelled = 1;
    if (h->where == AIO_IN_HEAP)
        h->loop->ncancelled++;
}
static struct aio_io *io_of(aio_loop *loop, int fd)
{
    const selector_key *k = fd >= 0 ? selector_get_key(loop->sel, fd) : NULL;
    return k != NULL ? k->data : NULL;
}

static struct aio_io *io_new(aio_loop *loop)
{
    struct aio_io *io = aio__alloc(loop, sizeof *io);
    if (io != NULL) {
        io->next = loop->ios;
        if (loop->ios != NULL)
            loop->ios->prev = io;
        loop->ios = io;
    }
    return io;
}

static void io_free(aio_loop *loop, struct aio_io *io)
{
    if (io->prev != NULL)
        io->prev->next = io->next;
    else
        loop->ios = io->next;
    if (io->next != NULL)
        io->next->prev = io->prev;
    aio__free(loop, io, sizeof *io);
}

static int io_events(const struct aio_io *io)
{
    return (io->reader ? SELECTOR_READ : 0) | (io->writer ? SELECTOR_WRITE : 0);
}
static int add_io(aio_loop *loop, int fd, int writer, aio_io_callback *fn,
                  void *arg)
{
    if (loop->closed)
        return -ESHUTDOWN;
    if (fd < 0)
        return -EBADF;
    struct aio_io *io = io_of(loop, fd);
    aio_handle **slot = io == NULL ? NULL : writer ? &io->writer : &io->reader;
    if (slot != NULL && *slot != NULL) {   /* замена колбэка */
        (*slot)->io_fn = fn;
        (*slot)->arg = arg;
        return 0;
    }
    int fresh = io == NULL;
    if (fresh && (io = io_new(loop)) == NULL)
        return -ENOMEM;
    aio_handle *h = new_handle(loop, NULL, arg);
    int have = fresh ? 0 : selector_get_key(loop->sel, fd)->events;
    int want = io_events(io) | (writer ? SELECTOR_WRITE : SELECTOR_READ);
    int rc = h == NULL ? -ENOMEM
             : fresh ? selector_register(loop->sel, fd, want, io)
             : (want & ~have) ? selector_modify(loop->sel, fd, want, io)
                              : 0;    /* маска осталась от снятого: ничего */
    if (rc < 0) {
        free_handle(h);
        if (fresh)
            io_free(loop, io);
        return rc;
    }
    h->io = 1;
    h->io_fn = fn;
    *(writer ? &io->writer : &io->reader) = h;
    TRACE(fd_begin(fd, writer));
    return 0;
}
int aio__io_busy(aio_loop *loop, int fd, int writer)
{
    struct aio_io *io = io_of(loop, fd);
    return io != NULL && (writer ? io->writer : io->reader) != NULL;
}

static void io_sync(aio_loop *loop, int fd, struct aio_io *io)
{
    int want = io_events(io);
    if (want == 0) {
        selector_unregister(loop->sel, fd);
        io_free(loop, io);
    } else if (want != selector_get_key(loop->sel, fd)->events) {
        selector_modify(loop->sel, fd, want, io);
    }
}

int aio__remove_io(aio_loop *loop, int fd, int writer, int lazy)
{
    struct aio_io *io = io_of(loop, fd);
    if (io == NULL)
        return 0;
    aio_handle **slot = writer ? &io->writer : &io->reader;
    aio_handle *h = *slot;
    *slot = NULL;
    if (!lazy)
        io_sync(loop, fd, io);       /* после него io может не быть */
    if (h == NULL)
        return 0;
    TRACE(fd_end(fd, writer));
    if (h->where == AIO_IN_READY) {   /* уже в очереди: пусть её и освободит */
        h->io = 0;
        h->cancelled = 1;
    } else {
        free_handle(h);
    }
    return 1;
}
int aio_add_reader(aio_loop *loop, int fd, aio_io_callback *fn, void *arg)
{
    return add_io(loop, fd, 0, fn, arg);
}

int aio_add_writer(aio_loop *loop, int fd, aio_io_callback *fn, void *arg)
{
    return add_io(loop, fd, 1, fn, arg);
}

int aio_remove_reader(aio_loop *loop, int fd)
{
    return aio__remove_io(loop, fd, 0, 0);
}

int aio_remove_writer(aio_loop *loop, int fd)
{
    return aio__remove_io(loop, fd, 1, 0);
}
int aio_close(aio_loop *loop, int fd)
{
    aio__remove_io(loop, fd, 0, 0);
    aio__remove_io(loop, fd, 1, 0);
    return close(fd) < 0 ? -errno : 0;
}
enum { MIN_CANCELLED_TO_COMPACT = 100 };

static void drop_cancelled_timers(aio_loop *loop)
{
    if (loop->ncancelled >= MIN_CANCELLED_TO_COMPACT
        && 2 * loop->ncancelled > loop->nheap) {
        size_t kept = 0;
        for (size_t i = 0; i < loop->nheap; i++) {
            aio_handle *h = loop->heap[i];
            if (h->cancelled)
                free_handle(h);
            else
                loop->heap[kept++] = h;
        }
        loop->nheap = kept;
        loop->ncancelled = 0;
        for (size_t i = kept / 2; i-- > 0;)
            sift_down(loop->heap, kept, i);
    }
    while (loop->nheap > 0 && loop->heap[0]->cancelled)
        free_handle(heap_pop(loop));
}
enum { MAX_SELECT_TIMEOUT_MS = 24 * 3600 * 1000 };

static int select_timeout_ms(aio_loop *loop)
{
    if (loop->nready > 0 || loop->stopping)
        return 0;
    if (loop->nheap == 0)
        return -1;
    double wait = loop->heap[0]->when - aio_time(loop);
    if (wait <= 0)
        return 0;
    double ms = ceil(wait * 1000.0);
    return ms > MAX_SELECT_TIMEOUT_MS ? MAX_SELECT_TIMEOUT_MS : (int)ms;
}
static void discard_handle(aio_handle *h)
{
    if (h->drop != NULL)
        h->drop(h->arg);
    free_handle(h);
}

static void run_handle(aio_handle *h)
{
    if (h->cancelled) {
        discard_handle(h);
        return;
    }
    if (h->io) {         /* хэндл дескриптора живёт, пока его не снимут */
        h->io_fn(h->arg, h->events);
        return;
    }
    aio_callback *fn = h->fn;
    void *arg = h->arg;
    free_handle(h);  /* до вызова: колбэк может снова поставить себя */
    fn(arg);         /* после вызова хэндла уже может не быть */
}
static int run_once(aio_loop *loop)
{
    drop_cancelled_timers(loop);
    TRACE(begin(TRACE_LOOP, "select"));
    int n = selector_select(loop->sel, loop->events, AIO_MAX_EVENTS,
                            select_timeout_ms(loop));
    TRACE(end(TRACE_LOOP));
    if (n < 0 && n != -EINTR)
        return n;
    for (int i = 0; i < n; i++) {
        int fd = loop->events[i].fd;
        const selector_key *k = selector_get_key(loop->sel, fd);
        if (k == NULL)   /* снят выше: kqueue сообщает чтение и запись порознь */
            continue;
        struct aio_io *io = k->data;
        int ev = loop->events[i].events;
        if ((ev & SELECTOR_READ) && io->reader != NULL) {
            io->reader->events = (unsigned char)ev;
            if (io->reader->where != AIO_IN_READY)
                ready_push(loop, io->reader);
        }
        if ((ev & SELECTOR_WRITE) && io->writer != NULL) {
            io->writer->events = (unsigned char)ev;
            if (io->writer->where != AIO_IN_READY)
                ready_push(loop, io->writer);
        }
        if (io_events(io) != k->events)     /* готов тот, кого уже не ждут */
            io_sync(loop, fd, io);
    }
    double now = aio_time(loop);
    while (loop->nheap > 0 && loop->heap[0]->when <= now) {
        aio_handle *h = heap_pop(loop);
        TRACE(instant(TRACE_LOOP, "timer fired", h->cancelled ? "cancelled" : NULL));
        if (h->cancelled)
            free_handle(h);
        else
            ready_push(loop, h);
    }
    size_t ntodo = loop->nready;      /* только то, что готово сейчас */
    for (size_t i = 0; i < ntodo; i++)
        run_handle(ready_pop(loop));
    return 0;
}
int aio_loop_run_once(aio_loop *loop)
{
    if (loop->running)
        return -EBUSY;
    if (loop->closed)
        return -ESHUTDOWN;
    loop->running = 1;
    int rc = run_once(loop);
    loop->running = 0;
    return rc;
}
int aio_loop_run_forever(aio_loop *loop)
{
    if (loop->running)
        return -EBUSY;
    if (loop->closed)
        return -ESHUTDOWN;
    loop->running = 1;
    int rc;
    do
        rc = run_once(loop);
    while (rc == 0 && !loop->stopping);
    loop->stopping = 0;
    loop->running = 0;
    return rc;
}

void aio_loop_stop(aio_loop *loop)
{
    loop->stopping = 1;
}
static int signal_write_fd = -1;  /* один цикл на процесс ловит сигналы */

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    ssize_t r = write(signal_write_fd, &b, 1);
    (void)r;      /* труба полна -- сигнал уже и так ждёт разбора */
    errno = saved;
}
static void read_signals(void *arg, int events)
{
    (void)events;
    aio_loop *loop = arg;
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(loop->sig_read_fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            aio_handle *s = &loop->sig[buf[i] % AIO_NSIG];
            if (s->fn != NULL)
                aio_call_soon(loop, s->fn, s->arg);
        }
}

static int open_signal_pipe(aio_loop *loop)
{
    if (loop->sig_read_fd >= 0)
        return 0;
    if (signal_write_fd >= 0)
        return -EBUSY;
    int p[2];
    if (pipe(p) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
        fcntl(p[i], F_SETFL, O_NONBLOCK);
    }
    int rc = aio_add_reader(loop, p[0], read_signals, loop);
    if (rc < 0) {
        close(p[0]);
        close(p[1]);
        return rc;
    }
    loop->sig_read_fd = p[0];
    loop->sig_write_fd = signal_write_fd = p[1];
    return 0;
}
int aio_add_signal_handler(aio_loop *loop, int signo, aio_callback *fn,
                           void *arg)
{
    if (signo <= 0 || signo >= AIO_NSIG || fn == NULL)
        return -EINVAL;
    int rc = open_signal_pipe(loop);
    if (rc < 0)
        return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) < 0)
        return -errno;
    loop->sig[signo].fn = fn;
    loop->sig[signo].arg = arg;
    return 0;
}

int aio_remove_signal_handler(aio_loop *loop, int signo)
{
    if (signo <= 0 || signo >= AIO_NSIG || loop->sig[signo].fn == NULL)
        return 0;
    signal(signo, SIG_DFL);
    loop->sig[signo].fn = NULL;
    return 1;
}
int aio_loop_new(aio_loop **out)
{
    aio_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL)
        return -ENOMEM;
    loop->sig_read_fd = loop->sig_write_fd = -1;
    loop->events = calloc(AIO_MAX_EVENTS, sizeof *loop->events);
    int rc = loop->events ? selector_new(&loop->sel, NULL) : -ENOMEM;
    if (rc < 0) {
        free(loop->events);
        free(loop);
        return rc;
    }
    *out = loop;
    return 0;
}
int aio__add_close_hook(aio_loop *loop, aio_close_fn *fn, void *arg)
{
    if (loop->closed)
        return -ESHUTDOWN;
    for (int i = 0; i < AIO_MAX_CLOSE_HOOKS; i++)
        if (loop->close_hooks[i].fn == NULL) {
            loop->close_hooks[i] = (struct aio_close_hook){fn, arg};
            return 0;
        }
    return -ENOSPC;
}

void *aio__close_hook_arg(const aio_loop *loop, aio_close_fn *fn)
{
    for (int i = 0; i < AIO_MAX_CLOSE_HOOKS; i++)
        if (loop->close_hooks[i].fn == fn)
            return loop->close_hooks[i].arg;
    return NULL;
}

static void run_close_hooks(aio_loop *loop)
{
    for (int i = AIO_MAX_CLOSE_HOOKS; i-- > 0;) {
        struct aio_close_hook *h = &loop->close_hooks[i];
        if (h->fn != NULL) {
            h->fn(loop, h->arg);
            *h = (struct aio_close_hook){NULL, NULL};
        }
    }
}
void aio_loop_free(aio_loop *loop)
{
    if (loop == NULL || loop->running)
        return;
    run_close_hooks(loop);           /* модули поверх цикла прибирают своё */
    loop->closed = 1;
    for (int signo = 1; signo < AIO_NSIG; signo++)
        aio_remove_signal_handler(loop, signo);
    if (loop->sig_read_fd >= 0) {
        aio_remove_reader(loop, loop->sig_read_fd);
        close(loop->sig_read_fd);
        close(loop->sig_write_fd);
        signal_write_fd = -1;
    }
    aio_handle *h;
    while ((h = ready_pop(loop)) != NULL) {
        if (!h->io)            /* хэндлы дескрипторов освободим ниже */
            discard_handle(h);
    }
    for (size_t i = 0; i < loop->nheap; i++)
        discard_handle(loop->heap[i]);
    free(loop->heap);
    while (loop->ios != NULL) {
        struct aio_io *io = loop->ios;
        free_handle(io->reader);
        free_handle(io->writer);
        io_free(loop, io);
    }
    selector_free(loop->sel);
    free(loop->events);
    drain_pools(loop);
    free(loop);
}
