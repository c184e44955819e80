/* Этот файл извлечён (tangle) из книги: book/a-measurements.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int trace_enabled;
static FILE *trace_file;
static struct timespec trace_t0;
static int trace_events;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - trace_t0.tv_sec) * 1e6
           + (double)(ts.tv_nsec - trace_t0.tv_nsec) / 1e3;
}

static void put_string(const char *s)
{
    putc('"', trace_file);
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(trace_file, "\\%c", c);
        else if (c < 0x20)
            fprintf(trace_file, "\\u%04x", c);
        else
            putc(c, trace_file);
    }
    putc('"', trace_file);
}

/* Начало события: разделитель, вид, время, дорожка. */
static void event_head(const char *ph, int lane)
{
    fprintf(trace_file, "%s\n{\"ph\":\"%s\",\"ts\":%.3f,\"pid\":1,\"tid\":%d",
            trace_events++ ? "," : "", ph, now_us(), lane);
}
static struct open_lane {
    int lane, depth;
} *open_lanes;
static size_t nopen, open_cap;

static void count_open(int lane, int delta)
{
    size_t i = 0;
    while (i < nopen && open_lanes[i].lane != lane)
        i++;
    if (i == nopen) {
        if (delta < 0)
            return;
        if (nopen == open_cap) {
            size_t cap = open_cap ? 2 * open_cap : 64;
            struct open_lane *p = realloc(open_lanes, cap * sizeof *p);
            if (p == NULL)
                return;           /* трасса без закрытия: видно в проверке */
            open_lanes = p;
            open_cap = cap;
        }
        open_lanes[nopen++] = (struct open_lane){lane, 0};
    }
    open_lanes[i].depth += delta;
    if (open_lanes[i].depth == 0)
        open_lanes[i] = open_lanes[--nopen];
}

static void close_open_slices(void)
{
    while (nopen > 0)
        trace_end(open_lanes[nopen - 1].lane);
    free(open_lanes);
    open_lanes = NULL;
    nopen = open_cap = 0;
}
int trace_open(const char *path)
{
    if (trace_file != NULL)
        return -EBUSY;
    trace_file = fopen(path, "w");
    if (trace_file == NULL)
        return -errno;
    clock_gettime(CLOCK_MONOTONIC, &trace_t0);
    trace_events = 0;
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", trace_file);
    trace_enabled = 1;
    trace_lane(TRACE_LOOP, "loop");
    return 0;
}

int trace_close(void)
{
    if (trace_file == NULL)
        return 0;
    close_open_slices();
    trace_enabled = 0;
    fputs("\n]}\n", trace_file);
    int rc = ferror(trace_file) ? -EIO : 0;
    if (fclose(trace_file) != 0 && rc == 0)
        rc = -errno;
    trace_file = NULL;
    return rc;
}
void trace_lane(int lane, const char *name)
{
    event_head("M", lane);
    fputs(",\"name\":\"thread_name\",\"args\":{\"name\":", trace_file);
    put_string(name);
    fputs("}}", trace_file);
}

void trace_begin(int lane, const char *name)
{
    count_open(lane, +1);
    event_head("B", lane);
    fputs(",\"name\":", trace_file);
    put_string(name);
    putc('}', trace_file);
}

void trace_end(int lane)
{
    count_open(lane, -1);
    event_head("E", lane);
    putc('}', trace_file);
}

void trace_instant(int lane, const char *name, const char *detail)
{
    event_head("i", lane);
    fputs(",\"s\":\"t\",\"name\":", trace_file);
    put_string(name);
    if (detail != NULL) {
        fputs(",\"args\":{\"detail\":", trace_file);
        put_string(detail);
        putc('}', trace_file);
    }
    putc('}', trace_file);
}
void trace_new_lane(int *lane, const char *name)
{
    static int last;
    *lane = ++last;
    trace_lane(*lane, name);
}

static int fd_lane(int fd, int writer)
{
    int lane = TRACE_FD_LANE + 2 * fd + (writer != 0);
    char name[32];
    snprintf(name, sizeof name, "fd %d %s", fd, writer ? "write" : "read");
    trace_lane(lane, name);
    return lane;
}

void trace_fd_begin(int fd, int writer) { trace_begin(fd_lane(fd, writer), "wait"); }
void trace_fd_end(int fd, int writer) { trace_end(fd_lane(fd, writer)); }

void trace_fd_event(int fd, int writer, const char *name)
{
    trace_instant(fd_lane(fd, writer), name, NULL);
}

static void close_at_exit(void)
{
    int rc = trace_close();
    if (rc < 0)
        fprintf(stderr, "trace: cannot write the trace: %s\n", strerror(-rc));
}

int trace_option(void *unused, const char *path)
{
    (void)unused;
    int rc = trace_open(path);
    if (rc < 0) {
        fprintf(stderr, "--trace %s: %s\n", path, strerror(-rc));
        return -1;
    }
    atexit(close_at_exit);
    return 0;
}
