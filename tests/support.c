/* tests/support.c — see support.h. */
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "aio.h"

long long sup_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sup_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

char *sup_tmp_path(char *buf, size_t cap, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    snprintf(buf, cap, "%s/book-test-%ld-%s.out", dir, (long)getpid(), tag);
    return buf;
}

/* ---- spawning ---------------------------------------------------------- */

static int redirect_child_io(const char *out_path)
{
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path ? out_path : "/dev/null",
                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0)
        return -1;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        return -1;
    close(in);
    close(out);
    return 0;
}

static void child_exec(const char *path, char *const argv[],
                       const char *out_path, int report_fd)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    int err = 0;
    if (redirect_child_io(out_path) < 0) {
        err = errno;
    } else {
        signal(SIGPIPE, SIG_DFL);
        execv(path, argv);
        err = errno;
    }
    ssize_t w = write(report_fd, &err, sizeof err);
    (void)w;
    _exit(127);
}

/* Build the argv the child gets: see the rules in support.h. */
static char **child_argv(const char *path, char *const argv[])
{
    size_t n = 0;
    int prepend = argv == NULL || argv[0] == NULL || argv[0][0] == '-';
    while (argv != NULL && argv[n] != NULL)
        n++;
    char **v = calloc(n + 2, sizeof *v);
    if (v == NULL)
        return NULL;
    size_t k = 0;
    if (prepend)
        v[k++] = (char *)path;
    for (size_t i = 0; i < n; i++)
        v[k++] = argv[i];
    v[k] = NULL;
    return v;
}

int sup_bin(const char *name, char *buf, size_t cap)
{
    const char *dir = getenv("BOOK_BIN");
    if (dir == NULL || *dir == '\0')
        dir = "build/bin";
    snprintf(buf, cap, "%s/%s", dir, name);
    if (access(buf, X_OK) == 0)
        return 0;
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/[0-9][0-9]-%s", dir, name);
    glob_t g = {0};
    int rc = -ENOENT;
    if (glob(pattern, 0, NULL, &g) == 0) {
        rc = g.gl_pathc == 1 ? 0 : -EEXIST;
        if (rc == 0)
            snprintf(buf, cap, "%s", g.gl_pathv[0]);
    }
    globfree(&g);
    return rc;
}

pid_t sup_spawn(const char *prog, char *const argv[], const char *out_path)
{
    char path[4096];
    int rc = sup_bin(prog, path, sizeof path);
    if (rc == 0 && access(path, X_OK) != 0)
        rc = -errno;
    if (rc != 0) {
        fprintf(stderr, "sup_spawn: cannot run %s (%s): %s\n", prog, path,
                rc == -EEXIST ? "two programs fit the name" : strerror(-rc));
        return rc;
    }
    char **v = child_argv(path, argv);
    int pipefd[2];
    if (v == NULL || pipe(pipefd) < 0) {
        free(v);
        return -ENOMEM;
    }
    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(path, v, out_path, pipefd[1]);
    int e = pid < 0 ? errno : 0;
    close(pipefd[1]);
    free(v);
    if (pid > 0) {
        /* EOF on the pipe means execv succeeded (CLOEXEC closed it). */
        int child_err = 0;
        ssize_t r;
        do
            r = read(pipefd[0], &child_err, sizeof child_err);
        while (r < 0 && errno == EINTR);
        if (r == (ssize_t)sizeof child_err) {
            waitpid(pid, NULL, 0);
            fprintf(stderr, "sup_spawn: exec %s: %s\n", path,
                    strerror(child_err));
            e = child_err;
        }
    }
    close(pipefd[0]);
    return e ? -e : pid;
}

int sup_stop(pid_t pid, int timeout_ms)
{
    int status;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    long long start = sup_now_ms(), deadline = start + timeout_ms;
    long long next_term = start + 2000;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (sup_now_ms() >= deadline) {
            fprintf(stderr, "sup_stop: pid %ld ignored SIGTERM for %d ms, "
                    "sending SIGKILL\n", (long)pid, timeout_ms);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return -1;
        }
        if (sup_now_ms() >= next_term) {
            kill(pid, SIGTERM);
            next_term += 2000;
        }
        sup_sleep_ms(5);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* ---- ports and connections -------------------------------------------- */

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int sup_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* 1 if /proc/net/tcp lists a socket listening on port, 0 if not, -1 if
 * the table cannot be read. */
static int proc_listening(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (f == NULL)
        return -1;
    char line[512];
    int found = 0;
    if (fgets(line, sizeof line, f) == NULL) { /* the header line */
        fclose(f);
        return -1;
    }
    while (!found && fgets(line, sizeof line, f) != NULL) {
        unsigned addr, lport, raddr, rport, state;
        if (sscanf(line, " %*d: %x:%x %x:%x %x", &addr, &lport, &raddr,
                   &rport, &state) == 5 &&
            (int)lport == port && state == 0x0A)
            found = 1;
    }
    fclose(f);
    return found;
}

int sup_connect(int port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    struct sockaddr_in a = loopback(port);
    int e = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int n = poll(&p, 1, timeout_ms);
            socklen_t len = sizeof e;
            if (n == 0)
                e = ETIMEDOUT;
            else if (n < 0)
                e = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                e = errno;
        }
    }
    if (e != 0) {
        close(fd);
        return -e;
    }
    fcntl(fd, F_SETFL, flags);
    return fd;
}

int sup_wait_port(int port, int timeout_ms)
{
    long long deadline = sup_now_ms() + timeout_ms;
    for (;;) {
        int r = proc_listening(port);
        if (r == 1)
            return 0;
        if (r < 0) { /* no /proc: probe with a real connection */
            int fd = sup_connect(port, 100);
            if (fd >= 0) {
                close(fd);
                return 0;
            }
        }
        if (sup_now_ms() >= deadline)
            return -ETIMEDOUT;
        sup_sleep_ms(10);
    }
}

/* ---- sending and receiving -------------------------------------------- */

int sup_send_str(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t sup_recv_timeout(int fd, char *buf, size_t cap, int timeout_ms)
{
    if (cap == 0)
        return -EINVAL;
    buf[0] = '\0';
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ETIMEDOUT;
    ssize_t r;
    do
        r = recv(fd, buf, cap - 1, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    buf[r] = '\0';
    return r;
}

ssize_t sup_recv_all(int fd, char *buf, size_t cap, int timeout_ms)
{
    if (cap == 0)
        return -EINVAL;
    buf[0] = '\0';
    size_t got = 0;
    int eof = 0;
    long long deadline = sup_now_ms() + timeout_ms;
    while (!eof && got + 1 < cap) {
        long long left = deadline - sup_now_ms();
        if (left <= 0)
            break;
        ssize_t r = sup_recv_timeout(fd, buf + got, cap - got, (int)left);
        if (r == 0) {
            eof = 1;
            break;
        }
        if (r < 0) {
            if (got > 0 || r == -ETIMEDOUT)
                break;
            return r;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    return got == 0 && !eof ? -ETIMEDOUT : (ssize_t)got;
}

/* ---- files ------------------------------------------------------------- */

char *sup_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s != NULL) {
        size_t n = fread(s + len, 1, cap - len - 1, f);
        len += n;
        if (len + 1 < cap)
            break;
        char *bigger = realloc(s, cap * 2);
        if (bigger == NULL) {
            free(s);
            s = NULL;
            break;
        }
        s = bigger;
        cap *= 2;
    }
    if (s != NULL)
        s[len] = '\0';
    fclose(f);
    return s;
}

int sup_wait_output(const char *path, const char *needle, int timeout_ms)
{
    long long deadline = sup_now_ms() + timeout_ms;
    for (;;) {
        char *s = sup_read_file(path);
        int found = s != NULL && strstr(s, needle) != NULL;
        free(s);
        if (found)
            return 0;
        if (sup_now_ms() >= deadline)
            return -ETIMEDOUT;
        sup_sleep_ms(10);
    }
}

int sup_server_start(struct sup_server *s, const char *prog, const char *tag,
                     char *const args[], int timeout_ms)
{
    enum { MAX_ARGS = 16 };
    char port[16];
    char *argv[MAX_ARGS + 4];
    int n = 0;
    s->pid = 0;
    s->port = sup_free_port();
    if (s->port <= 0)
        return -1;
    snprintf(port, sizeof port, "%d", s->port);
    sup_tmp_path(s->log, sizeof s->log, tag);
    argv[n++] = (char *)prog;
    argv[n++] = "--port";
    argv[n++] = port;
    for (int i = 0; args != NULL && args[i] != NULL; i++) {
        if (i == MAX_ARGS)
            return -1;
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    pid_t pid = sup_spawn(prog, argv, s->log);
    if (pid <= 0)
        return -1;
    if (sup_wait_port(s->port, timeout_ms) != 0) {
        sup_stop(pid, 2000);
        return -1;
    }
    s->pid = pid;
    return 0;
}

void sup_server_show_log(const struct sup_server *s)
{
    char *text = sup_read_file(s->log);
    printf("---- server output (%s) ----\n%s---- end ----\n", s->log,
           text ? text : "(unreadable)\n");
    free(text);
}

static char trace[4096];

void sup_note(const char *fmt, ...)
{
    size_t len = strlen(trace);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trace + len, sizeof trace - len, fmt, ap);
    va_end(ap);
}

const char *sup_trace(void)
{
    return trace;
}

void sup_trace_reset(void)
{
    trace[0] = '\0';
}

int sup_loop_setup(void **state)
{
    aio_loop *loop;
    sup_trace_reset();
    if (aio_loop_new(&loop) != 0)
        return -1;
    *state = loop;
    return 0;
}

int sup_loop_teardown(void **state)
{
    aio_loop_free(*state);
    return 0;
}

int sup_raise_nofile(unsigned long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        return -1;
    rl.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &rl);
}
