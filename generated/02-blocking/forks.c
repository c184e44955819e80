/* Этот файл извлечён (tangle) из книги: book/02-blocking.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

enum { BLOCKING_DEFAULT_PORT = 5000, BLOCKING_RECV_MAX = 4096 };

static const char hello[] = "Hello world!\n";
#include <signal.h>
#include <sys/prctl.h>

static void report_end(const char *call, int err)
{
    if (err == 0 || (err == -EINTR && net_stop_requested()))
        return;
    fprintf(stderr, "%s: %s (the client is gone, serving the next one)\n",
            call, strerror(-err));
}
static void talk_to_client(int fd)
{
    char buf[BLOCKING_RECV_MAX];
    while (!net_stop_requested()) {
        puts("Before .recv()");
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR && !net_stop_requested())
            continue;
        if (n <= 0) {
            report_end("recv", n == 0 ? 0 : -errno);
            break;
        }
        int rc = net_send_all(fd, hello, sizeof hello - 1);
        if (rc < 0) {
            report_end("send", rc);
            break;
        }
    }
    puts("Outside inner while loop");
}
/* Дескриптор следующего клиента; -EINTR, когда пора остановиться; другое
   -errno, когда принимать дальше нельзя. */
static int accept_client(int listen_fd)
{
    char peer[NET_PEER_NAME_MAX];
    for (;;) {
        puts("Before .accept()");
        int fd = net_accept(listen_fd);
        if (fd >= 0) {
            printf("Connection from: %s\n", net_peer_name(fd, peer, sizeof peer));
            return fd;
        }
        if (fd == -EINTR)
            return fd;
        fprintf(stderr, "accept: %s\n", strerror(-fd));
        if (fd != -EMFILE && fd != -ENFILE && fd != -ENOBUFS && fd != -ENOMEM)
            return fd;
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
}
static void child_dies_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(0);
}

static int serve_forever(int listen_fd)
{
    pid_t self = getpid();
    signal(SIGCHLD, SIG_IGN); /* детей убирает ядро: зомби не копятся */
    while (!net_stop_requested()) {
        int fd = accept_client(listen_fd);
        if (fd < 0)
            return fd == -EINTR ? 0 : 1;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(listen_fd);
            child_dies_with_parent(self);
            talk_to_client(fd);
            _exit(0);
        }
        if (pid < 0)
            fprintf(stderr, "fork: %s (closing the client)\n", strerror(errno));
        close(fd);
    }
    return 0;
}
int main(int argc, char **argv)
{
    int port = BLOCKING_DEFAULT_PORT, status;
    const struct net_option opts[] = {
        {.name = "port", .kind = NET_OPT_PORT, .value = &port, .arg = "N",
         .help = "port to listen on (default 5000)"},
        {0},
    };
    if (net_parse_args(argc, argv, "[--port N]", opts, 0, &status) < 0)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (net_catch_stop_signals() < 0)
        return 1;
    int listen_fd = net_listen("127.0.0.1", port);
    if (listen_fd < 0)
        return 1;
    net_say_listening(NULL, port, NULL);
    int rc = serve_forever(listen_fd);
    close(listen_fd);
    net_say_stopped();
    return rc;
}
