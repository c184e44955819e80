/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "fetch.h"
#include "job.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_URL "http://127.0.0.1:5002/320/240"

struct options {
    struct job_config job;
    size_t count;                  /* --count N */
    size_t limit;                  /* --limit K; 0 -- все сразу */
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

static int set_timeout(void *value, const char *text)
{
    char *end;
    double s = strtod(text, &end);
    if (end == text || *end != '\0' || !(s > 0) || s >= 1e6)
        return -1;
    *(long *)value = (long)(s * 1000);
    return 0;
}
static int parse_options(int argc, char **argv, struct options *o, int *status)
{
    long count = 10, limit = 0;
    *o = (struct options){.job = {.dir = "images", .timeout_ms = 30000},
                          .sync = 1, .async = 1};
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
         .help = "at most K downloads at once (default 0: all)", .min = 0, .max = 1000000},
        {.name = "timeout", .kind = NET_OPT_CALL, .value = &o->job.timeout_ms, .arg = "SEC",
         .help = "give up one download after SEC seconds (default 30)", .call = set_timeout},
        {0},
    };
    if (net_parse_args(argc, argv, "[options]", opts, 0, status) < 0)
        return -1;
    o->count = (size_t)count;
    o->limit = (size_t)limit;
    if (o->job.nurls == 0)
        o->job.urls[o->job.nurls++] = DEFAULT_URL;
    return 0;
}
/* Одна за другой, libcurl easy. Возвращает число неудачных загрузок. */
static size_t run_sync(const struct job_config *cfg, size_t count)
{
    size_t failed = 0;
    double t0 = job_now();
    for (size_t i = 0; i < count; i++) {
        struct job j;
        CURLcode code = CURLE_FAILED_INIT;
        if (job_start(&j, cfg, "sync", i) == 0)
            code = curl_easy_perform(j.easy);        /* поток ждёт здесь */
        if (job_finish(&j, code, j.errbuf, t0) < 0)
            failed++;
        job_cleanup(&j);
        if (net_stop_requested()) {
            failed += count - i - 1;
            break;
        }
    }
    printf("Sync total time: %.3f sec.\n", job_now() - t0);
    return failed;
}
struct async_run {
    aio_loop *loop;
    fetch *fx;
    const struct job_config *cfg;
    size_t count, limit;
    size_t running, succeeded;
    double t0;
    aio_future *slot;              /* его ждёт запускающий, когда мест нет */
};

struct download {
    struct async_run *run;
    size_t index;
    struct job job;
    gen_value r;
    gen_error err;
};
static int download_body(gen *g)
{
    struct download *f = gen_locals(g);
    GEN_BEGIN(g);
    if (job_start(&f->job, f->run->cfg, "async", f->index) < 0) {
        job_finish(&f->job, CURLE_FAILED_INIT, NULL, f->run->t0);
        GEN_RETURN(g, gen_int(-1));
    }
    AIO_AWAIT_NEW_CATCH(g, f->r, f->err, fetch_perform(f->run->fx, f->job.easy));
    {
        CURLcode code = f->err.code == 0 ? CURLE_OK
                      : f->err.payload.kind == GEN_INT ? (CURLcode)f->err.payload.i
                      : CURLE_ABORTED_BY_CALLBACK;    /* отмена задачи */
        GEN_RETURN(g, gen_int(job_finish(&f->job, code, f->err.msg, f->run->t0)));
    }
    GEN_FINALLY(g);
    fetch_remove(f->run->fx, f->job.easy);  /* если нас отменили на полпути */
    job_cleanup(&f->job);
    GEN_END(g);
}
static void on_download_done(aio_future *task, void *arg)
{
    struct async_run *run = arg;
    gen_value v;
    if (aio_future_outcome(task, &v, NULL) == 0 && v.kind == GEN_INT && v.i == 0)
        run->succeeded++;
    run->running--;
    if (run->slot != NULL)
        aio_future_set_result(run->slot, gen_none());  /* место освободилось */
}
struct launcher {
    struct async_run *run;
    size_t next;
    aio_future *task;
    gen_value r;
};

static int launcher_body(gen *g)
{
    struct launcher *f = gen_locals(g);
    struct async_run *run = f->run;
    GEN_BEGIN(g);
    for (f->next = 0; f->next < run->count; f->next++) {
        while (run->running >= run->limit) {
            AIO_AWAIT_NEW(g, f->r, run->slot = aio_future_new(run->loop));
            run->slot = NULL;
        }
        f->task = aio_create_task(run->loop, gen_new(download_body,
            &(struct download){.run = run, .index = f->next}, sizeof(struct download)));
        if (f->task == NULL)
            GEN_RAISE(g, -ENOMEM, "cannot create download task %zu", f->next);
        if (aio_future_add_done_callback(f->task, on_download_done, run) < 0) {
            aio_future_cancel(f->task, NULL);
            aio_future_unref(f->task);
            GEN_RAISE(g, -ENOMEM, "cannot watch download task %zu", f->next);
        }
        run->running++;
        aio_future_unref(f->task);     /* пока задача не кончилась, её держит цикл */
    }
    while (run->running > 0) {
        AIO_AWAIT_NEW(g, f->r, run->slot = aio_future_new(run->loop));
        run->slot = NULL;
    }
    GEN_FINALLY(g);
    run->slot = NULL;
    GEN_END(g);
}
static size_t run_async(const struct job_config *cfg, size_t count, size_t limit)
{
    aio_loop *loop;
    fetch *fx;
    int rc = aio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return count;
    }
    if ((rc = fetch_new(loop, &fx)) < 0) {
        fprintf(stderr, "fetch_new: %s\n", strerror(-rc));
        aio_loop_free(loop);
        return count;
    }
    struct async_run run = {.loop = loop, .fx = fx, .cfg = cfg, .count = count,
                            .limit = limit > 0 ? limit : count, .t0 = job_now()};
    gen_result r;
    rc = aio_run(loop, gen_new(launcher_body, &(struct launcher){.run = &run},
                               sizeof(struct launcher)), &r);
    printf("Async total time: %.3f sec.\n", job_now() - run.t0);
    if (rc != 0)
        fprintf(stderr, "async run: %s\n", r.error.msg);
    fetch_free(fx);                  /* цикл больше не крутится */
    aio_loop_free(loop);
    return count - run.succeeded;
}
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct options o;
    int status;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    net_raise_open_files_limit();      /* сокет и файл на каждую загрузку */
    if (mkdir(o.job.dir, 0755) < 0 && errno != EEXIST) {
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
        failed += run_async(&o.job, o.count, o.limit);
    curl_global_cleanup();
    if (failed > 0)
        fprintf(stderr, "%zu download(s) failed\n", failed);
    return failed == 0 ? 0 : 1;
}
