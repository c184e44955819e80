/* Этот файл извлечён (tangle) из книги: book/12-fetch.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "fetch_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetch_sock {
    fetch *fx;
    int fd;
    int what;                   /* CURL_POLL_IN, _OUT, _INOUT или _NONE */
};

struct fetch_xfer {
    CURL *easy;
    aio_future *fut;            /* своя ссылка */
    struct fetch_xfer *prev, *next;
    char errbuf[CURL_ERROR_SIZE];
    int lane;                   /* дорожка трассы (приложение А) */
};

struct fetch {
    aio_loop *loop;
    CURLM *multi;
    aio_handle *timer;          /* таймер libcurl на цикле или NULL */
    struct fetch_sock **socks;  /* socks[fd] или NULL */
    int nsocks;
    struct fetch_xfer *xfers;   /* незавершённые передачи */
    struct fetch_stats stats;
};
static struct fetch_sock *sock_get(fetch *fx, int fd, int create)
{
    if (fd < 0)
        return NULL;
    if (fd >= fx->nsocks) {
        if (!create)
            return NULL;
        int n = fx->nsocks ? fx->nsocks : 64;
        while (n <= fd)
            n *= 2;
        struct fetch_sock **t = realloc(fx->socks, (size_t)n * sizeof *t);
        if (t == NULL)
            return NULL;
        memset(t + fx->nsocks, 0, (size_t)(n - fx->nsocks) * sizeof *t);
        fx->socks = t;
        fx->nsocks = n;
    }
    if (fx->socks[fd] == NULL && create) {
        struct fetch_sock *fs = calloc(1, sizeof *fs);
        if (fs == NULL)
            return NULL;
        *fs = (struct fetch_sock){.fx = fx, .fd = fd, .what = CURL_POLL_NONE};
        fx->socks[fd] = fs;
        fx->stats.sockets++;
    }
    return fx->socks[fd];
}
static void sock_forget(fetch *fx, int fd)
{
    struct fetch_sock *fs = sock_get(fx, fd, 0);
    if (fs == NULL)
        return;
    /* Если libcurl уже закрыла fd, селектор ответит на снятие ошибкой,
       а цикл её проглотит: следить за закрытым и так нечего. */
    aio_remove_reader(fx->loop, fd);
    aio_remove_writer(fx->loop, fd);
    fx->socks[fd] = NULL;
    free(fs);
    fx->stats.sockets--;
}
static gen_error xfer_error(CURLcode code, const char *errbuf)
{
    int e = code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
          : code == CURLE_COULDNT_CONNECT ? -ECONNREFUSED
          : code == CURLE_OUT_OF_MEMORY ? -ENOMEM
          : FETCH_ECURL;
    gen_error err = gen_err(e, "%s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code));
    err.payload = gen_int(code);
    return err;
}
static void xfer_forget(fetch *fx, struct fetch_xfer *x)
{
    TRACE(end(x->lane));
    curl_multi_remove_handle(fx->multi, x->easy);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, NULL); /* x сейчас исчезнет */
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        fx->xfers = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    free(x);
}
static void collect_done(fetch *fx)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(fx->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;       /* m живёт до remove_handle */
        CURLcode code = m->data.result;
        void *p = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
        struct fetch_xfer *x = p;
        if (x == NULL) {                   /* не наша передача */
            curl_multi_remove_handle(fx->multi, easy);
            continue;
        }
        aio_future *fut = x->fut;
        gen_error err = xfer_error(code, x->errbuf);
        xfer_forget(fx, x);
        if (code == CURLE_OK)
            aio_future_set_result(fut, gen_int(0));
        else
            aio_future_set_error(fut, &err);
        aio_future_unref(fut);
    }
}
static void act(fetch *fx, curl_socket_t s, int ev)
{
    int running = 0;
    fx->stats.actions++;
    CURLMcode rc = curl_multi_socket_action(fx->multi, s, ev, &running);
    if (rc != CURLM_OK)
        fprintf(stderr, "curl_multi_socket_action: %s\n", curl_multi_strerror(rc));
    fx->stats.running = running;
    if (rc == CURLM_ABORTED_BY_CALLBACK)   /* libcurl убила все передачи, но */
        while (fx->xfers != NULL) {        /* не скажет о них: завершить самим */
            struct fetch_xfer *x = fx->xfers;
            aio_future *fut = x->fut;
            gen_error err = xfer_error(CURLE_ABORTED_BY_CALLBACK, "");
            xfer_forget(fx, x);
            aio_future_set_error(fut, &err);
            aio_future_unref(fut);
        }
    collect_done(fx);
}
static void on_ready(struct fetch_sock *fs, int ev, int events)
{
    fetch *fx = fs->fx;        /* после act() fs может уже не быть */
    int fd = fs->fd;
    if (events & SELECTOR_ERROR)
        ev |= CURL_CSELECT_ERR;
    fx->stats.in += (ev & CURL_CSELECT_IN) != 0;
    fx->stats.out += (ev & CURL_CSELECT_OUT) != 0;
    fx->stats.err += (ev & CURL_CSELECT_ERR) != 0;
    act(fx, fd, ev);
}

static void on_readable(void *arg, int events)
{
    on_ready(arg, CURL_CSELECT_IN, events);
}

static void on_writable(void *arg, int events)
{
    on_ready(arg, CURL_CSELECT_OUT, events);
}
int fetch__on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
    (void)easy;
    (void)socketp;
    fetch *fx = userp;
    if (what == CURL_POLL_REMOVE) {
        sock_forget(fx, s);
        return 0;
    }
    struct fetch_sock *fs = sock_get(fx, s, 1);
    if (fs == NULL)
        return -1;
    int rc = 0;
    if (what & CURL_POLL_IN)
        rc = aio_add_reader(fx->loop, s, on_readable, fs);
    else
        aio_remove_reader(fx->loop, s);
    if (rc == 0 && (what & CURL_POLL_OUT))
        rc = aio_add_writer(fx->loop, s, on_writable, fs);
    else
        aio_remove_writer(fx->loop, s);
    fs->what = what;
    return rc == 0 ? 0 : -1;
}
static void on_timeout(void *arg)
{
    fetch *fx = arg;
    fx->timer = NULL;          /* хэндл отработал: больше не наш */
    fx->stats.timer = 0;
    fx->stats.timeouts++;
    act(fx, CURL_SOCKET_TIMEOUT, 0);
}

int fetch__on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fetch *fx = userp;
    aio_handle_cancel(fx->timer);          /* новый срок заменяет старый */
    fx->timer = NULL;
    fx->stats.timer = 0;
    if (timeout_ms < 0)                    /* -1: таймер не нужен */
        return 0;
    if (timeout_ms == 0)                   /* «как можно скорее», но не отсюда */
        fx->timer = aio_call_soon(fx->loop, on_timeout, fx);
    else
        fx->timer = aio_call_later(fx->loop, timeout_ms / 1000.0, on_timeout, fx);
    fx->stats.timer = fx->timer != NULL;
    return fx->timer != NULL ? 0 : -1;
}
int fetch_new(aio_loop *loop, fetch **out)
{
    fetch *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -ENOMEM;
    fx->loop = loop;
    fx->multi = curl_multi_init();
    if (fx->multi == NULL) {
        free(fx);
        return -EIO;
    }
    if (curl_multi_setopt(fx->multi, CURLMOPT_SOCKETFUNCTION, fetch__on_socket) != CURLM_OK
        || curl_multi_setopt(fx->multi, CURLMOPT_SOCKETDATA, fx) != CURLM_OK
        || curl_multi_setopt(fx->multi, CURLMOPT_TIMERFUNCTION, fetch__on_timer) != CURLM_OK
        || curl_multi_setopt(fx->multi, CURLMOPT_TIMERDATA, fx) != CURLM_OK) {
        curl_multi_cleanup(fx->multi);
        free(fx);
        return -EIO;
    }
    *out = fx;
    return 0;
}

CURLM *fetch_multi(fetch *fx)
{
    return fx->multi;
}
aio_future *fetch_perform(fetch *fx, CURL *easy)
{
    struct fetch_xfer *x = calloc(1, sizeof *x);
    aio_future *fut = aio_future_new(fx->loop);
    if (x == NULL || fut == NULL) {
        free(x);
        aio_future_unref(fut);
        return NULL;
    }
    x->easy = easy;
    x->fut = fut;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
    CURLMcode rc = curl_multi_add_handle(fx->multi, easy);
    if (rc != CURLM_OK) {
        gen_error err = gen_err(FETCH_ECURL, "curl_multi_add_handle: %s",
                                curl_multi_strerror(rc));
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
        free(x);
        aio_future_set_error(fut, &err);
        return fut;                        /* ссылка вызвавшему */
    }
    x->next = fx->xfers;
    if (x->next != NULL)
        x->next->prev = x;
    fx->xfers = x;
    TRACE(new_lane(&x->lane, "transfer"));
    TRACE(begin(x->lane, "transfer"));
    return aio_future_ref(fut);
}
int fetch_remove(fetch *fx, CURL *easy)
{
    void *p = NULL;
    if (easy == NULL || curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p) != CURLE_OK
        || p == NULL)
        return 0;
    struct fetch_xfer *x = p;
    aio_future *fut = x->fut;
    xfer_forget(fx, x);
    aio_future_cancel(fut, "transfer removed");
    aio_future_unref(fut);
    return 1;
}
void fetch_free(fetch *fx)
{
    if (fx == NULL)
        return;
    while (fx->xfers != NULL)
        fetch_remove(fx, fx->xfers->easy);
    curl_multi_cleanup(fx->multi);     /* может ещё позвать наши колбэки */
    aio_handle_cancel(fx->timer);
    for (int fd = 0; fd < fx->nsocks; fd++)
        sock_forget(fx, fd);
    free(fx->socks);
    free(fx);
}
void fetch_get_stats(const fetch *fx, struct fetch_stats *st)
{
    *st = fx->stats;
}

int fetch__watching(const fetch *fx, int fd)
{
    if (fd < 0 || fd >= fx->nsocks || fx->socks[fd] == NULL)
        return -1;
    return fx->socks[fd]->what;
}
