/* Этот файл извлечён (tangle) из книги: book/11-images.nw book/12-fetch.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "fetch.h"
#include "job.h"
#include "net.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_URL "http://127.0.0.1:5002/320/240"

struct options {
    struct job_config job;
    size_t count;                  /* --count N */
    size_t limit;                  /* --limit K; 0 -- по умолчанию */
    int sync, async;               /* --mode sync|async|both */
};

/* Параметры, которые не укладываются в готовые виды командной строки
   главы 1 (net_parse_args): их разбирают эти функции. */
static int add_url(void *value, const char *text)
{
    struct job_config *job = value;
    if (job->nurls == JOB_MAX_URLS)
        return -1;
    job->urls[job->nurls++] = text;
    return 0;
}

static int set_mode(void *value, const char *text)
{
    struct options *o = value;
    if (strcmp(text, "sync") != 0 && strcmp(text, "async") != 0 && strcmp(text, "both") != 0)
        return -1;
    o->sync = strcmp(text, "async") != 0;
    o->async = strcmp(text, "sync") != 0;
    return 0;
}
static const char *parse_ms(const char *s, long *out)
{
    char *end;
    double sec = strtod(s, &end);
    if (end == s || *end != '\0' || !(sec > 0) || sec > 1e6)
        return "expected seconds, more than 0";
    long ms = lround(sec * 1000);
    if (ms < 1)
        return "rounds to 0 ms, which libcurl reads as no limit at all; the least is 0.001";
    *out = ms;
    return NULL;
}

static const char *parse_bytes(const char *s, curl_off_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
              : *end == 'G' || *end == 'g' ? 30 : 0;
    if (errno != 0 || end == s || v < 1 || end[shift > 0] != '\0' || v > (INT64_MAX >> shift))
        return "expected bytes, more than 0, with K, M or G if you like";
    *out = (curl_off_t)v << shift;
    return NULL;
}

/* Те же разборы как колбэки net_parse_args: причина отказа -- в stderr. */
static int refuse(const char *text, const char *why)
{
    if (why != NULL)
        fprintf(stderr, "'%s': %s\n", text, why);
    return why != NULL ? -1 : 0;
}

static int set_ms(void *value, const char *text)
{
    return refuse(text, parse_ms(text, value));
}

static int set_bytes(void *value, const char *text)
{
    return refuse(text, parse_bytes(text, value));
}
static int parse_options(int argc, char **argv, struct options *o, int *status)
{
    long count = 10, limit = 0;
    int quiet = 0;
    *o = (struct options){.sync = 1, .async = 1};
    job_config_init(&o->job);
    const struct net_option opts[] = {
        {.name = "count", .kind = NET_OPT_LONG, .value = &count, .arg = "N",
         .help = "how many images, each way (default 10)", .min = 0, .max = 1000000},
        {.name = "url", .kind = NET_OPT_CALL, .value = &o->job, .arg = "URL",
         .help = "where to download from; repeat to take them in turn", .call = add_url},
        {.name = "dir", .kind = NET_OPT_TEXT, .value = &o->job.dir, .arg = "DIR",
         .help = "where to save the images (default images)"},
        {.name = "mode", .kind = NET_OPT_CALL, .value = o, .arg = "sync|async|both",
         .help = "which runs to make (default both)", .call = set_mode},
        {.name = "limit", .kind = NET_OPT_LONG, .value = &limit, .arg = "K",
         .help = "at most K downloads at once (default: 256, fewer if descriptors are short)",
         .min = 0, .max = 1000000},
        {.name = "timeout", .kind = NET_OPT_CALL, .value = &o->job.timeout_ms, .arg = "SEC",
         .help = "give up one download after SEC seconds (default 30)", .call = set_ms},
        {.name = "connect-timeout", .kind = NET_OPT_CALL, .value = &o->job.connect_timeout_ms,
         .arg = "SEC", .help = "give up connecting after SEC seconds (default 10)", .call = set_ms},
        {.name = "max-size", .kind = NET_OPT_CALL, .value = &o->job.max_size, .arg = "BYTES",
         .help = "refuse an image larger than this (default 64M)", .call = set_bytes},
        {.name = "overwrite", .kind = NET_OPT_FLAG, .value = &o->job.overwrite,
         .help = "replace files that already exist (default: refuse)"},
        {.name = "quiet", .kind = NET_OPT_FLAG, .value = &quiet,
         .help = "no progress; failures and the summary still show"},
        TRACE_OPTION,
        {0},
    };
    if (net_parse_args(argc, argv, "[options]", opts, 0, status) < 0)
        return -1;
    o->count = (size_t)count;
    o->limit = (size_t)limit;
    if (quiet)
        o->job.show = JOB_QUIET;
    if (o->job.nurls == 0)
        o->job.urls[o->job.nurls++] = DEFAULT_URL;
    return 0;
}
/* Одна за другой, libcurl easy. Возвращает число неудачных загрузок. */
static size_t run_sync(const struct job_config *cfg, size_t count)
{
    struct job_run run;
    job_run_begin(&run, cfg, "sync", count);
    for (size_t i = 0; i < count && !net_stop_requested(); i++) {
        struct job j;
        CURLcode code = CURLE_FAILED_INIT;
        int lane = 0;                                /* дорожка трассы */
        TRACE(new_lane(&lane, "transfer"));
        TRACE(begin(lane, "transfer"));
        if (job_start(&j, &run, i) == 0)
            code = curl_easy_perform(j.easy);        /* поток ждёт здесь */
        TRACE(end(lane));
        job_finish(&j, code, j.errbuf);
        job_cleanup(&j);
    }
    return job_run_end(&run);
}
struct async_run {
    aio_loop *loop;
    fetch *fx;
    struct job_run run;
    size_t limit, running;
    aio_future *slot;              /* его ждёт запускающий, когда мест нет */
};

struct download {
    struct async_run *ar;
    size_t index;
    struct job job;
    gen_value r;
    gen_error err;
};
static int download_body(gen *g)
{
    struct download *f = gen_locals(g);
    GEN_BEGIN(g);
    if (job_start(&f->job, &f->ar->run, f->index) < 0)
        GEN_RETURN(g, gen_int(job_finish(&f->job, CURLE_FAILED_INIT, f->job.errbuf)));
    AIO_AWAIT_NEW_CATCH(g, f->r, f->err, fetch_perform(f->ar->fx, f->job.easy));
    {
        CURLcode code = f->err.code == 0 ? CURLE_OK
                      : f->err.payload.kind == GEN_INT ? (CURLcode)f->err.payload.i
                      : CURLE_ABORTED_BY_CALLBACK;    /* отмена задачи */
        GEN_RETURN(g, gen_int(job_finish(&f->job, code, f->err.msg)));
    }
    GEN_FINALLY(g);
    fetch_remove(f->ar->fx, f->job.easy);   /* если нас отменили на полпути */
    job_cleanup(&f->job);
    GEN_END(g);
}
static void on_download_done(aio_future *task, void *arg)
{
    (void)task;
    struct async_run *ar = arg;
    ar->running--;
    if (ar->slot != NULL)
        aio_future_set_result(ar->slot, gen_none());   /* место освободилось */
}
struct launcher {
    struct async_run *ar;
    size_t next;
    aio_future *task;
    gen_value r;
};

static int launcher_body(gen *g)
{
    struct launcher *f = gen_locals(g);
    struct async_run *ar = f->ar;
    GEN_BEGIN(g);
    for (f->next = 0; f->next < ar->run.count; f->next++) {
        while (ar->running >= ar->limit) {
            AIO_AWAIT_NEW(g, f->r, ar->slot = aio_future_new(ar->loop));
            ar->slot = NULL;
        }
        f->task = aio_create_task(ar->loop, gen_new(download_body,
            &(struct download){.ar = ar, .index = f->next}, sizeof(struct download)));
        if (f->task == NULL)
            GEN_RAISE(g, -ENOMEM, "cannot create download task %zu", f->next);
        if (aio_future_add_done_callback(f->task, on_download_done, ar) < 0) {
            aio_future_cancel(f->task, NULL);
            aio_future_unref(f->task);
            GEN_RAISE(g, -ENOMEM, "cannot watch download task %zu", f->next);
        }
        ar->running++;
        aio_future_unref(f->task);     /* пока задача не кончилась, её держит цикл */
    }
    while (ar->running > 0) {
        AIO_AWAIT_NEW(g, f->r, ar->slot = aio_future_new(ar->loop));
        ar->slot = NULL;
    }
    GEN_FINALLY(g);
    ar->slot = NULL;
    GEN_END(g);
}
static size_t run_async(const struct job_config *cfg, size_t count, size_t limit)
{
    struct async_run ar = {.limit = limit};
    int rc = aio_loop_new(&ar.loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return count;
    }
    if ((rc = fetch_new(ar.loop, &ar.fx)) < 0) {
        fprintf(stderr, "fetch_new: %s\n", strerror(-rc));
        aio_loop_free(ar.loop);
        return count;
    }
    curl_multi_setopt(fetch_multi(ar.fx), CURLMOPT_MAXCONNECTS, (long)limit);
    job_run_begin(&ar.run, cfg, "async", count);
    gen_result r;
    rc = aio_run(ar.loop, gen_new(launcher_body, &(struct launcher){.ar = &ar},
                                  sizeof(struct launcher)), &r);
    size_t failed = job_run_end(&ar.run);
    if (rc != 0)
        fprintf(stderr, "async run: %s\n", r.error.msg);
    fetch_free(ar.fx);                 /* цикл больше не крутится */
    aio_loop_free(ar.loop);
    return failed;
}
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct options o;
    int status;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    net_raise_open_files_limit();      /* сокет и файл на каждую загрузку */
    if (mkdir(o.job.dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", o.job.dir, strerror(errno));
        return 1;
    }
    CURLcode g = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (g != CURLE_OK) {
        fprintf(stderr, "curl_global_init: %s\n", curl_easy_strerror(g));
        return 1;
    }
    size_t failed = 0;
    if (o.sync) {
        net_catch_stop_signals();
        failed += run_sync(&o.job, o.count);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    if (o.async && !net_stop_requested())
        failed += run_async(&o.job, o.count, job_limit(o.count, o.limit));
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
