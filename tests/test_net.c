/* The network module of chapters 1 and 3 (lib/net.h), function by function:
 * what net_listen refuses and where it listens by default, net_peer_name for
 * peers that are not IPv4, net_accept and signals, raising the limit of open
 * files. Each oracle is the system's own answer (getsockname, getrlimit) or
 * the contract in net.h. Tests that touch signals or limits of the process
 * run in a child. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"
#include "support.h"

/* ---- net_listen ---- */

static void test_listen_refuses_bad_port_and_host(void **state)
{
    (void)state;
    assert_int_equal(net_listen("127.0.0.1", -1), -EINVAL);
    assert_int_equal(net_listen("127.0.0.1", 65536), -EINVAL);
    assert_int_equal(net_listen("example.com", sup_free_port()), -EINVAL);
    assert_int_equal(net_listen("::1", sup_free_port()), -EINVAL);   /* IPv4 only */
}

/* where a listening socket listens, as the kernel says */
static const char *bound_to(int fd, char *buf, size_t cap, int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return inet_ntop(AF_INET, &a.sin_addr, buf, (socklen_t)cap);
}

static void test_listen_defaults_host(void **state)
{
    (void)state;
    char where[INET_ADDRSTRLEN];
    int port = sup_free_port(), got;
    int fd = net_listen(NULL, port);               /* NULL: every address */
    assert_true(fd >= 0);
    assert_string_equal(bound_to(fd, where, sizeof where, &got), "0.0.0.0");
    assert_int_equal(got, port);
    close(fd);
    fd = net_listen("localhost", port);            /* the name: 127.0.0.1 */
    assert_true(fd >= 0);
    assert_string_equal(bound_to(fd, where, sizeof where, &got), "127.0.0.1");
    close(fd);
}

/* ---- net_peer_name for peers that are not IPv4 ---- */

static void test_peer_name_of_unix_and_ipv6_peers(void **state)
{
    (void)state;
    char buf[NET_PEER_NAME_MAX], want[NET_PEER_NAME_MAX];
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snprintf(want, sizeof want, "(address family %d)", AF_UNIX);
    assert_string_equal(net_peer_name(sv[0], buf, sizeof buf), want);
    close(sv[0]);
    close(sv[1]);

    int l = socket(AF_INET6, SOCK_STREAM, 0), c = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof a;
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0) {
        print_message("no IPv6 loopback here: the IPv6 peer is not checked\n");
    } else {
        assert_int_equal(listen(l, 1), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
        assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
        int s = accept(l, NULL, NULL);
        assert_true(s >= 0);
        len = sizeof a;
        assert_int_equal(getsockname(c, (struct sockaddr *)&a, &len), 0);
        snprintf(want, sizeof want, "('::1', %u, 0, 0)", (unsigned)ntohs(a.sin6_port));
        assert_string_equal(net_peer_name(s, buf, sizeof buf), want);
        close(s);
    }
    if (l >= 0)
        close(l);
    if (c >= 0)
        close(c);
}

/* ---- in a child: signals and limits stay there ---- */

/* run child() in a child process; its return value is the exit status
   (exit, not _exit: under make coverage the child's counts are written) */
static int in_child(int (*child)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);                   /* a hang is a failure, not a stuck suite */
        exit(child());
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* a stop already asked for: net_accept does not block, it says -EINTR */
static int accept_after_stop(void)
{
    int l = net_listen("127.0.0.1", sup_free_port());
    if (l < 0 || net_catch_stop_signals() != 0)
        return 1;
    raise(SIGTERM);
    if (!net_stop_requested())
        return 2;
    return net_accept(l) == -EINTR ? 0 : 3;
}

static void test_accept_returns_eintr_once_stop_is_requested(void **state)
{
    (void)state;
    assert_int_equal(in_child(accept_after_stop), 0);
}

/* another signal interrupts accept (EINTR, no SA_RESTART): net_accept
   goes back to waiting; the handler connects a client, and net_accept
   returns that client */
static int client_fd = -1;
static struct sockaddr_in listen_addr;
static void connect_now(int sig)
{
    (void)sig;
    if (connect(client_fd, (struct sockaddr *)&listen_addr, sizeof listen_addr) != 0)
        _exit(4);
}

static int accept_through_other_signal(void)
{
    int port = sup_free_port();
    int l = net_listen("127.0.0.1", port);
    client_fd = socket(AF_INET, SOCK_STREAM, 0);
    listen_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = connect_now;     /* sa_flags 0: accept fails with EINTR */
    if (l < 0 || client_fd < 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    pid_t parent = getpid(), kid = fork();   /* it sends SIGUSR1 a little later */
    if (kid == 0) {
        sup_sleep_ms(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    int fd = net_accept(l);
    waitpid(kid, NULL, 0);
    return fd >= 0 ? 0 : 5;
}

static void test_accept_goes_on_after_another_signal(void **state)
{
    (void)state;
    assert_int_equal(in_child(accept_through_other_signal), 0);
}

/* the soft limit below the hard one: raised to the hard one, at most 65536 */
static int raise_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
    if (want <= 64)
        return 0;                    /* nothing to raise: the check is empty */
    rl.rlim_cur = 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 2;
    if (net_raise_open_files_limit() != 0)
        return 3;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != want)
        return 4;
    return 0;
}

static void test_raise_open_files_limit(void **state)
{
    (void)state;
    assert_int_equal(in_child(raise_limit), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_refuses_bad_port_and_host),
        cmocka_unit_test(test_listen_defaults_host),
        cmocka_unit_test(test_peer_name_of_unix_and_ipv6_peers),
        cmocka_unit_test(test_accept_returns_eintr_once_stop_is_requested),
        cmocka_unit_test(test_accept_goes_on_after_another_signal),
        cmocka_unit_test(test_raise_open_files_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
