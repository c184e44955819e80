/* Этот файл извлечён (tangle) из книги: book/a-measurements.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
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
    return 0;
}

int trace_close(void)
{
    if (trace_file == NULL)
        return 0;
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
    event_head("B", lane);
    fputs(",\"name\":", trace_file);
    put_string(name);
    putc('}', trace_file);
}

void trace_end(int lane)
{
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
