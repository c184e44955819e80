/* Этот файл извлечён (tangle) из книги: book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "fetch.h"
#include "job.h"
#include "net.h"

#include <errno.h>
#include <getopt.h>
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

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--count N] [--url URL]... [--dir DIR] [--mode sync|async|both]\n"
                    "       [--limit K] [--timeout SEC] [--connect-timeout SEC]\n"
                    "       [--max-size BYTES[K|M|G]] [--overwrite] [--quiet]\n", prog);
    return -1;
}

static const char *parse_count(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
        return "expected a whole number";
    *out = (size_t)v;
    return NULL;
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
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"count", required_argument, NULL, 'n'}, {"url", required_argument, NULL, 'u'},
        {"dir", required_argument, NULL, 'd'}, {"mode", required_argument, NULL, 'm'},
        {"limit", required_argument, NULL, 'l'}, {"timeout", required_argument, NULL, 't'},
        {"connect-timeout", required_argument, NULL, 'c'},
        {"max-size", required_argument, NULL, 's'}, {"overwrite", no_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0}};
    *o = (struct options){.count = 10, .sync = 1, .async = 1};
    job_config_init(&o->job);
    int c, at;
    while ((c = getopt_long(argc, argv, "", longs, &at)) != -1) {
        const char *v = optarg, *why = NULL;
        switch (c) {
        case 'n': why = parse_count(v, &o->count); break;
        case 'l': why = parse_count(v, &o->limit); break;
        case 'u':
            if (o->job.nurls == JOB_MAX_URLS)
                why = "too many addresses";
            else
                o->job.urls[o->job.nurls++] = v;
            break;
        case 'd': o->job.dir = v; break;
        case 'm':
            o->sync = strcmp(v, "async") != 0;
            o->async = strcmp(v, "sync") != 0;
            if (strcmp(v, "sync") != 0 && strcmp(v, "async") != 0 && strcmp(v, "both") != 0)
                why = "expected sync, async or both";
            break;
        case 't': why = parse_ms(v, &o->job.timeout_ms); break;
        case 'c': why = parse_ms(v, &o->job.connect_timeout_ms); break;
        case 's': why = parse_bytes(v, &o->job.max_size); break;
        case 'o': o->job.overwrite = 1; break;
        case 'q': o->job.show = JOB_QUIET; break;
        default: return usage(argv[0]);     /* getopt_long уже сказал, что не так */
        }
        if (why != NULL) {
            fprintf(stderr, "%s: --%s %s: %s\n", argv[0], longs[at].name, v, why);
            return usage(argv[0]);
        }
    }
    if (optind < argc)
        return usage(argv[0]);
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
        if (job_start(&j, &run, i) == 0)
            code = curl_easy_perform(j.easy);        /* поток ждёт здесь */
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
    if (parse_options(argc, argv, &o) < 0)
        return 2;
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
