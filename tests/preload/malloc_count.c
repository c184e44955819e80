/* tests/preload/malloc_count.c — a malloc counter for LD_PRELOAD.
 *
 * Counts every call of malloc, calloc, realloc and the aligned allocators
 * of the process it is preloaded into, and forwards them to glibc's own
 * (__libc_malloc...). It also counts the process's epoll_ctl calls (the
 * loop's registrations), forwarded to the kernel with syscall(2). On
 * SIGUSR1 it writes "SEQ CALLS EPOLL_CTL\n" to the file named by
 * $MALLOC_COUNT_FILE (SEQ counts the signals), with open+write only, so
 * a test can read the counts of a running server before and after a run
 * of requests. Not for the ASan build: ASan interposes malloc itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile unsigned long calls, ctls, seq;
static const char *out_path;

void *malloc(size_t n) { calls++; return __libc_malloc(n); }
void *calloc(size_t k, size_t n) { calls++; return __libc_calloc(k, n); }
void *realloc(void *p, size_t n) { calls++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { calls++; return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { calls++; return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n)
{
    calls++;
    *p = __libc_memalign(a, n);
    return *p != NULL ? 0 : 12; /* ENOMEM */
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    ctls++;
    return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

static char *put_num(char *p, unsigned long v)
{
    char tmp[24];
    int k = 0;
    do
        tmp[k++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (k > 0)
        *p++ = tmp[--k];
    return p;
}

static void report(int signo)
{
    (void)signo;
    int saved = errno;
    unsigned long c = calls, e = ctls;
    char line[96], *p = put_num(line, ++seq);
    *p++ = ' ';
    p = put_num(p, c);
    *p++ = ' ';
    p = put_num(p, e);
    *p++ = '\n';
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)(p - line));
        (void)w;
        close(fd);
    }
    errno = saved;
}

__attribute__((constructor)) static void start(void)
{
    out_path = getenv("MALLOC_COUNT_FILE");
    if (out_path == NULL)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = report;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}
