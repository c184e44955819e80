/* tests/support.h — helpers shared by the integration tests.
 *
 * Everything here talks to 127.0.0.1 only, every wait is bounded by a
 * timeout, and every function reports failure as a return value
 * (-errno, NULL or -1 as documented), never by exiting.
 *
 * A typical integration test:
 *
 *     int port = sup_free_port();
 *     char portstr[16];
 *     snprintf(portstr, sizeof portstr, "%d", port);
 *     char *argv[] = {"blocking-server", "--port", portstr, NULL};
 *     pid_t pid = sup_spawn("blocking-server", argv, "/tmp/out.txt");
 *     assert_true(pid > 0);
 *     assert_int_equal(sup_wait_port(port, 5000), 0);
 *     int fd = sup_connect(port, 1000);
 *     ...
 *     assert_int_equal(sup_stop(pid, 5000), 0);
 */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Where the program called name is: a path under the folder $BOOK_BIN
 * (default "build/bin"), written into buf. Tests name programs without the
 * chapter number, by chapter slug and file: "select-server" is
 * 03-select-server, "images-download" is the downloader of whatever chapter
 * NN-images is today; a program without a number (an appendix's,
 * "measurements-loadgen") is found as it is. So a chapter added in the
 * middle renumbers the programs but no test. Returns 0, -ENOENT if no such
 * program is built, -EEXIST if the name fits two. */
int sup_bin(const char *name, char *buf, size_t cap);

/* Start the program named prog (found by sup_bin), with the argument vector argv, as for execv: argv[0] is the
 * program's own name, the list ends with NULL. For convenience argv may be
 * NULL (no arguments), and if argv[0] starts with '-' the vector is taken
 * as the arguments only and the program name is put in front of it.
 * stdin is /dev/null; stdout and stderr both go to out_path (truncated;
 * NULL means /dev/null). On Linux the child gets SIGKILL if the test
 * process dies, so no server outlives a crashed test.
 * Returns the child's pid, or -errno if the program could not be run
 * (e.g. -ENOENT when it has not been built). */
pid_t sup_spawn(const char *prog, char *const argv[], const char *out_path);

/* A TCP port on 127.0.0.1 that is free right now (the kernel picks it).
 * Returns the port, or -errno. */
int sup_free_port(void);

/* Wait until something listens on 127.0.0.1:port. Checks the kernel's
 * table of listening sockets (/proc/net/tcp), so it does NOT open a
 * connection the server would then see and log; falls back to connecting
 * where /proc is missing. Returns 0, or -ETIMEDOUT after timeout_ms. */
int sup_wait_port(int port, int timeout_ms);

/* Connect to 127.0.0.1:port within timeout_ms. The returned socket is in
 * blocking mode. Returns the fd, or -errno (-ETIMEDOUT, -ECONNREFUSED…). */
int sup_connect(int port, int timeout_ms);

/* Send the whole string s (without its NUL), looping over partial writes,
 * with MSG_NOSIGNAL (a closed peer gives -EPIPE, not a dead test).
 * Returns 0 or -errno. */
int sup_send_str(int fd, const char *s);

/* Wait up to timeout_ms for data, then recv once: at most cap-1 bytes, and
 * buf is always NUL-terminated (so strstr works on it). Returns the number
 * of bytes read, 0 on EOF (the peer closed), -ETIMEDOUT if nothing came,
 * or -errno (e.g. -ECONNRESET). cap must be at least 1. */
ssize_t sup_recv_timeout(int fd, char *buf, size_t cap, int timeout_ms);

/* Send SIGTERM to pid and reap it. SIGTERM is repeated every 2 s, as a
 * person presses Ctrl+C again: a server whose flag-checking loop lost the
 * race with the first signal (it arrived just before a blocking call) is
 * woken by the next one. (Not sooner: a server under ASan may take half a
 * second to exit — LeakSanitizer scans its heap — and a program that has
 * put back the default action would die of the second signal.) Returns its exit status (0..255) if it exited,
 * 128+signal if a signal ended it, or -1 if it was still alive after
 * timeout_ms and had to be killed with SIGKILL. */
int sup_stop(pid_t pid, int timeout_ms);

/* The whole contents of the file at path, NUL-terminated, in memory from
 * malloc (the caller frees it); NULL if it cannot be read. */
char *sup_read_file(const char *path);

/* ---- Extras (beyond the agreed API, free to use) ---------------------- */

/* Receive until EOF, until cap-1 bytes, or until timeout_ms pass in total;
 * buf is NUL-terminated. Returns the number of bytes read (possibly 0),
 * or -errno if the first recv failed; -ETIMEDOUT only if nothing came. */
ssize_t sup_recv_all(int fd, char *buf, size_t cap, int timeout_ms);

/* Wait until the file at path contains needle (e.g. a server's log line).
 * Returns 0, or -ETIMEDOUT. */
int sup_wait_output(const char *path, const char *needle, int timeout_ms);

/* A temporary file name unique to this process and tag, e.g.
 * "/tmp/book-test-1234-web.out", written into buf. Returns buf. */
char *sup_tmp_path(char *buf, size_t cap, const char *tag);

/* Milliseconds of a monotonic clock (for deadlines, never for asserts). */
long long sup_now_ms(void);

/* Sleep for ms milliseconds (restarted after EINTR). */
void sup_sleep_ms(int ms);

/* ---- A server program under test -------------------------------------- */

struct sup_server {
    pid_t pid;          /* 0 once stopped or if it never started */
    int port;
    char log[256];      /* its stdout and stderr */
};

/* Start prog (a name under $BOOK_BIN) as "prog --port N args..." on a free
 * port N, its output to a temporary file named after tag (sup_tmp_path),
 * and wait up to timeout_ms until it listens. args: more arguments ending
 * with NULL, or NULL for none. Returns 0, or -1 (a child that did start is
 * stopped; s->pid is 0). */
int sup_server_start(struct sup_server *s, const char *prog, const char *tag,
                     char *const args[], int timeout_ms);

/* Print the server's output between "---- server output (path) ----" and
 * "---- end ----": for a test that is about to fail. */
void sup_server_show_log(const struct sup_server *s);

/* ---- A trace, for tests that check the order of events --------------- */

/* One trace per test process (4 KiB; what does not fit is cut off):
 * sup_note appends printf-style text to it, sup_trace returns it (compare
 * with assert_string_equal), sup_trace_reset empties it. */
void sup_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *sup_trace(void);
void sup_trace_reset(void);

/* cmocka fixtures for the tests of chapter 8's loop: sup_loop_setup puts a
 * new aio_loop in *state and empties the trace (-1 if the loop cannot be
 * made); sup_loop_teardown frees it. */
int sup_loop_setup(void **state);
int sup_loop_teardown(void **state);

/* Raise the soft limit on open files to at least want (for tests that need
 * more descriptors than FD_SETSIZE). Returns 0, or -1 when the hard limit
 * forbids it (the test should skip). */
int sup_raise_nofile(unsigned long want);

#endif
