/* The event loop of chapter 8 (lib/aio.h): ready queue, timers, readers and
 * writers, stop, signals. One test per rule; each rule is one that a plausible
 * wrong loop would break. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "aio.h"
#include "aio_impl.h"   /* close hooks */
#include "support.h"

static void note_name(void *arg)
{
    sup_note("%s ", (const char *)arg);
}

/* ---- the ready queue ---- */

static void test_call_soon_does_not_run_inline(void **state)
{
    aio_loop *loop = *state;
    assert_non_null(aio_call_soon(loop, note_name, "a"));
    assert_string_equal(sup_trace(), "");
    assert_int_equal(aio_loop_run_once(loop), 0);
    assert_string_equal(sup_trace(), "a ");
}

static void test_call_soon_runs_in_fifo_order(void **state)
{
    aio_loop *loop = *state;
    aio_call_soon(loop, note_name, "a");
    aio_call_soon(loop, note_name, "b");
    aio_call_soon(loop, note_name, "c");
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "a b c ");
}

struct chain { aio_loop *loop; int left; };

static void reschedule(void *arg)
{
    struct chain *c = arg;
    sup_note("x ");
    if (--c->left > 0)
        aio_call_soon(c->loop, reschedule, c);
}

static void test_iteration_runs_only_what_was_ready_when_it_began(void **state)
{
    aio_loop *loop = *state;
    struct chain c = {loop, 3};
    aio_call_soon(loop, reschedule, &c);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "x "); /* not "x x x ": no starvation */
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "x x ");
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "x x x ");
}

static void test_cancelled_callback_does_not_run(void **state)
{
    aio_loop *loop = *state;
    aio_handle *h = aio_call_soon(loop, note_name, "a");
    aio_call_soon(loop, note_name, "b");
    aio_handle_cancel(h);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "b ");
}

/* ---- timers ---- */

static void test_timers_fire_in_deadline_order(void **state)
{
    aio_loop *loop = *state;
    double now = aio_time(loop);
    aio_call_at(loop, now + 0.03, note_name, "c");
    aio_call_at(loop, now + 0.01, note_name, "a");
    aio_call_at(loop, now + 0.02, note_name, "b");
    while (strlen(sup_trace()) < 6)
        assert_int_equal(aio_loop_run_once(loop), 0);
    assert_string_equal(sup_trace(), "a b c ");
}

static void test_equal_deadlines_fire_fifo(void **state)
{
    aio_loop *loop = *state;
    static const char *names[] = {"0", "1", "2", "3", "4", "5", "6", "7",
                                  "8", "9", "10", "11", "12", "13", "14"};
    double when = aio_time(loop) + 0.01;
    for (int i = 0; i < 15; i++)
        aio_call_at(loop, when, note_name, (void *)names[i]);
    while (strlen(sup_trace()) < 35)
        assert_int_equal(aio_loop_run_once(loop), 0);
    /* a heap alone is not stable: without the sequence number this fails */
    assert_string_equal(sup_trace(), "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 ");
}

static void test_timer_does_not_fire_early(void **state)
{
    aio_loop *loop = *state;
    double start = aio_time(loop);
    aio_call_later(loop, 0.05, note_name, "t");
    while (sup_trace()[0] == '\0')
        aio_loop_run_once(loop);
    assert_true(aio_time(loop) - start >= 0.05);
}

static void test_cancelled_timer_is_discarded(void **state)
{
    aio_loop *loop = *state;
    aio_handle *h = aio_call_later(loop, 0.01, note_name, "gone");
    aio_call_later(loop, 0.02, note_name, "kept");
    aio_handle_cancel(h);
    while (sup_trace()[0] == '\0')
        aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "kept ");
}

static void test_many_cancelled_timers_are_compacted(void **state)
{
    aio_loop *loop = *state;
    enum { N = 5000 };
    static aio_handle *hs[N];
    for (int i = 0; i < N; i++)
        hs[i] = aio_call_later(loop, 100.0 + i, note_name, "never");
    for (int i = 0; i < N; i++)
        aio_handle_cancel(hs[i]);
    aio_call_later(loop, 0.0, note_name, "now");
    while (sup_trace()[0] == '\0')
        aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "now ");
    /* no leak under ASan: the cancelled ones were freed, not just skipped */
}

/* ---- stop ---- */

static void stop_it(void *arg)
{
    sup_note("stop ");
    aio_loop_stop(arg);
}

static void test_stop_ends_run_forever_after_the_iteration(void **state)
{
    aio_loop *loop = *state;
    aio_call_soon(loop, stop_it, loop);
    aio_call_soon(loop, note_name, "same-iteration");
    assert_int_equal(aio_loop_run_forever(loop), 0);
    assert_string_equal(sup_trace(), "stop same-iteration ");
    aio_call_soon(loop, note_name, "next");
    aio_call_soon(loop, stop_it, loop);
    assert_int_equal(aio_loop_run_forever(loop), 0); /* runs again */
    assert_string_equal(sup_trace(), "stop same-iteration next stop ");
}

static void test_stop_before_run_forever_runs_one_iteration(void **state)
{
    aio_loop *loop = *state;
    aio_call_soon(loop, note_name, "a");
    aio_loop_stop(loop);
    assert_int_equal(aio_loop_run_forever(loop), 0);
    assert_string_equal(sup_trace(), "a ");
}

/* ---- readers and writers ---- */

struct io_case { aio_loop *loop; int fd; int times; };

static void on_readable(void *arg, int events)
{
    (void)events;
    struct io_case *c = arg;
    char buf[16];
    ssize_t n = read(c->fd, buf, sizeof buf);
    sup_note("read:%zd ", n);
    if (++c->times == 2)
        aio_remove_reader(c->loop, c->fd);
}

static void test_reader_called_while_readable_until_removed(void **state)
{
    aio_loop *loop = *state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct io_case c = {loop, sv[0], 0};
    assert_int_equal(aio_add_reader(loop, sv[0], on_readable, &c), 0);
    assert_int_equal(write(sv[1], "ab", 2), 2);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "read:2 ");
    assert_int_equal(write(sv[1], "c", 1), 1);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "read:2 read:1 ");
    assert_int_equal(write(sv[1], "d", 1), 1);
    aio_call_soon(loop, note_name, "tick");
    aio_loop_run_once(loop); /* removed: no read this time */
    assert_string_equal(sup_trace(), "read:2 read:1 tick ");
    assert_int_equal(aio_remove_reader(loop, sv[0]), 0);
    close(sv[0]);
    close(sv[1]);
}

static void on_writable(void *arg, int events)
{
    (void)events;
    struct io_case *c = arg;
    sup_note("writable ");
    aio_remove_writer(c->loop, c->fd);
}

static void test_reader_and_writer_on_one_fd(void **state)
{
    aio_loop *loop = *state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct io_case c = {loop, sv[0], 5};
    assert_int_equal(aio_add_reader(loop, sv[0], on_readable, &c), 0);
    assert_int_equal(aio_add_writer(loop, sv[0], on_writable, &c), 0);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "writable "); /* nothing to read yet */
    assert_int_equal(write(sv[1], "z", 1), 1);
    aio_loop_run_once(loop);
    assert_string_equal(sup_trace(), "writable read:1 ");
    assert_int_equal(aio_remove_reader(loop, sv[0]), 1);
    close(sv[0]);
    close(sv[1]);
}

static void remove_other(void *arg, int events)
{
    (void)events;
    struct io_case *c = arg;
    sup_note("first ");
    aio_remove_reader(c->loop, c->fd); /* its callback is already queued */
}

static void test_removed_reader_already_queued_does_not_run(void **state)
{
    aio_loop *loop = *state;
    int a[2], b[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    struct io_case ca = {loop, b[0], 0}, cb = {loop, b[0], 0};
    /* whichever fires first removes the reader of b[0] */
    assert_int_equal(aio_add_reader(loop, a[0], remove_other, &ca), 0);
    assert_int_equal(aio_add_reader(loop, b[0], on_readable, &cb), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "y", 1), 1);
    aio_loop_run_once(loop);
    /* either "first " alone, or "read:1 first " if b came first */
    assert_true(strcmp(sup_trace(), "first ") == 0 || strcmp(sup_trace(), "read:1 first ") == 0);
    aio_remove_reader(loop, a[0]);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* The reader gets the selector's mask: readable with data; readable and
 * SELECTOR_ERROR once the peer has closed (POLLHUP), on the backends
 * that report it (poll, epoll). */
static void note_events(void *arg, int events)
{
    sup_note("%s:%s%s%s ", (const char *)arg, events & SELECTOR_READ ? "r" : "",
             events & SELECTOR_WRITE ? "w" : "", events & SELECTOR_ERROR ? "e" : "");
}

static void test_reader_gets_the_event_mask(void **state)
{
    (void)state;
    static const char *const backends[] = {"poll", "epoll"};
    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        aio_loop *loop;
        setenv("SELECTOR_BACKEND", backends[b], 1);
        int rc = aio_loop_new(&loop);
        unsetenv("SELECTOR_BACKEND");
        if (rc == -EINVAL)
            continue;                  /* no epoll here */
        assert_int_equal(rc, 0);
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        assert_int_equal(aio_add_reader(loop, sv[0], note_events, "fd"), 0);
        assert_int_equal(write(sv[1], "x", 1), 1);
        aio_loop_run_once(loop);
        assert_string_equal(sup_trace(), "fd:r ");
        close(sv[1]);
        aio_loop_run_once(loop);
        assert_string_equal(sup_trace(), "fd:r fd:re ");
        aio_remove_reader(loop, sv[0]);
        close(sv[0]);
        aio_loop_free(loop);
        sup_trace_reset();
    }
}

static void test_bad_fd_is_refused(void **state)
{
    aio_loop *loop = *state;
    assert_int_equal(aio_add_reader(loop, -1, note_events, "x"), -EBADF);
    assert_int_equal(aio_remove_writer(loop, 12345), 0);
}

/* ---- signals ---- */

static void on_usr1(void *arg)
{
    sup_note("usr1 ");
    aio_loop_stop(arg);
}

static void test_signal_becomes_a_callback(void **state)
{
    aio_loop *loop = *state;
    assert_int_equal(aio_add_signal_handler(loop, SIGUSR1, on_usr1, loop), 0);
    raise(SIGUSR1);
    assert_string_equal(sup_trace(), ""); /* not in the handler */
    aio_call_later(loop, 5.0, note_name, "timeout"); /* bound */
    assert_int_equal(aio_loop_run_forever(loop), 0);
    assert_string_equal(sup_trace(), "usr1 ");
    assert_int_equal(aio_remove_signal_handler(loop, SIGUSR1), 1);
}

static void test_signal_handler_refuses_bad_arguments(void **state)
{
    aio_loop *loop = *state;
    assert_int_equal(aio_add_signal_handler(loop, 0, on_usr1, loop), -EINVAL);
    assert_int_equal(aio_add_signal_handler(loop, 1000, on_usr1, loop), -EINVAL);
    assert_int_equal(aio_add_signal_handler(loop, SIGUSR1, NULL, loop), -EINVAL);
    /* a valid number the kernel will not let anyone catch: sigaction says no */
    assert_int_equal(aio_add_signal_handler(loop, SIGKILL, on_usr1, loop), -EINVAL);
    assert_int_equal(aio_remove_signal_handler(loop, SIGKILL), 0);
}

static void test_second_loop_cannot_take_signals(void **state)
{
    aio_loop *loop = *state, *other;
    assert_int_equal(aio_add_signal_handler(loop, SIGUSR1, on_usr1, loop), 0);
    assert_int_equal(aio_loop_new(&other), 0);
    assert_int_equal(aio_add_signal_handler(other, SIGUSR2, on_usr1, other), -EBUSY);
    aio_loop_free(other);
}

/* ---- running it from inside ---- */

struct inside { aio_loop *loop; int once, forever; };

static void run_from_inside(void *arg)
{
    struct inside *in = arg;
    in->once = aio_loop_run_once(in->loop);
    in->forever = aio_loop_run_forever(in->loop);
    aio_loop_free(in->loop);       /* not from a running loop: nothing happens */
    sup_note("inside ");
}

static void test_loop_cannot_run_from_its_own_callback(void **state)
{
    aio_loop *loop = *state;
    struct inside in = {loop, 0, 0};
    aio_call_soon(loop, run_from_inside, &in);
    aio_call_soon(loop, note_name, "next");
    assert_int_equal(aio_loop_run_once(loop), 0);
    assert_int_equal(in.once, -EBUSY);
    assert_int_equal(in.forever, -EBUSY);
    assert_string_equal(sup_trace(), "inside next ");
    assert_non_null(aio_call_soon(loop, note_name, "after")); /* still alive */
    assert_int_equal(aio_loop_run_once(loop), 0);
    assert_string_equal(sup_trace(), "inside next after ");
}

/* ---- close hooks (aio_impl.h): few places, called last to first ---- */

static void note_hook(aio_loop *loop, void *arg)
{
    (void)loop;
    sup_note("%s ", (const char *)arg);
}
static void other_hook(aio_loop *loop, void *arg) { note_hook(loop, arg); }

static void test_close_hooks_run_last_first_and_places_run_out(void **state)
{
    (void)state;
    static const char *names[AIO_MAX_CLOSE_HOOKS] = {"1", "2", "3", "4"};
    aio_loop *loop;
    assert_int_equal(aio_loop_new(&loop), 0);
    assert_null(aio__close_hook_arg(loop, note_hook));
    for (int i = 0; i < AIO_MAX_CLOSE_HOOKS; i++)
        assert_int_equal(aio__add_close_hook(loop, i == 1 ? other_hook : note_hook,
                                             (void *)names[i]), 0);
    assert_int_equal(aio__add_close_hook(loop, note_hook, "5"), -ENOSPC);
    assert_string_equal(aio__close_hook_arg(loop, other_hook), "2");
    aio_loop_free(loop);
    assert_string_equal(sup_trace(), "4 3 2 1 ");
}

/* ---- closing ---- */

static void test_free_discards_pending_callbacks_and_timers(void **state)
{
    (void)state;
    aio_loop *loop;
    assert_int_equal(aio_loop_new(&loop), 0);
    aio_call_soon(loop, note_name, "a");
    aio_call_later(loop, 10.0, note_name, "b");
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    aio_add_reader(loop, sv[0], note_events, "r");
    aio_loop_free(loop); /* LeakSanitizer checks that all of it is freed */
    assert_string_equal(sup_trace(), "");
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, sup_loop_setup, sup_loop_teardown)
        T(test_call_soon_does_not_run_inline),
        T(test_call_soon_runs_in_fifo_order),
        T(test_iteration_runs_only_what_was_ready_when_it_began),
        T(test_cancelled_callback_does_not_run),
        T(test_timers_fire_in_deadline_order),
        T(test_equal_deadlines_fire_fifo),
        T(test_timer_does_not_fire_early),
        T(test_cancelled_timer_is_discarded),
        T(test_many_cancelled_timers_are_compacted),
        T(test_stop_ends_run_forever_after_the_iteration),
        T(test_stop_before_run_forever_runs_one_iteration),
        T(test_reader_called_while_readable_until_removed),
        T(test_reader_gets_the_event_mask),
        T(test_reader_and_writer_on_one_fd),
        T(test_removed_reader_already_queued_does_not_run),
        T(test_bad_fd_is_refused),
        T(test_signal_becomes_a_callback),
        T(test_second_loop_cannot_take_signals),
        T(test_signal_handler_refuses_bad_arguments),
        T(test_free_discards_pending_callbacks_and_timers),
        T(test_loop_cannot_run_from_its_own_callback),
        T(test_close_hooks_run_last_first_and_places_run_out),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
