/* Этот файл извлечён (tangle) из книги: book/10-sockets.nw book/11-images.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "aio.h"
#include "http.h"
#include "net.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (int k = 1; k < 8; k++)               /* ещё один нулевой байт */
        for (int n = 0; n < 256; n++)
            crc_table[k][n] = crc_table[0][crc_table[k - 1][n] & 0xFF] ^ (crc_table[k - 1][n] >> 8);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {          /* восемь байтов за шаг */
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = crc_table[7][c & 0xFF] ^ crc_table[6][(c >> 8) & 0xFF] ^ crc_table[5][(c >> 16) & 0xFF]
            ^ crc_table[4][c >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]]
            ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    while (n-- > 0)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t adler32_of(const unsigned char *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552;   /* столько сумм не переполнят b */
        n -= k;
        while (k-- > 0) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}
enum { STORED_MAX = 65535 };           /* байтов в одном несжатом блоке */

/* Сырые строки: байт фильтра (0) и по три байта RGB на точку. */
static size_t png_raw_size(int w, int h)
{
    return (size_t)h * (1 + 3 * (size_t)w);
}

static size_t png_size(int w, int h)
{
    size_t raw = png_raw_size(w, h);
    size_t blocks = (raw + STORED_MAX - 1) / STORED_MAX;
    size_t zlib = 2 + 5 * blocks + raw + 4;
    return 8 + (12 + 13) + (12 + zlib) + 12;
}
static unsigned char *put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

/* Чанк PNG: длина, тип, данные (уже лежат на месте), CRC типа и данных. */
static unsigned char *close_chunk(unsigned char *start, size_t len)
{
    put32(start, (uint32_t)len);
    return put32(start + 8 + len, crc32_of(start + 4, 4 + len));
}
/* Записать в out (png_size(w, h) байтов) PNG из сырых строк raw. */
static void png_encode(unsigned char *out, int w, int h, const unsigned char *raw)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    size_t n = png_raw_size(w, h);
    unsigned char *p = out, *chunk;
    memcpy(p, signature, 8);
    p += 8;
    chunk = p;                                   /* IHDR */
    memcpy(chunk + 4, "IHDR", 4);
    p = put32(put32(chunk + 8, (uint32_t)w), (uint32_t)h);
    memcpy(p, "\x08\x02\x00\x00\x00", 5);        /* 8 бит, RGB, deflate, фильтр 0, без чересстрочности */
    p = close_chunk(chunk, 13);
    chunk = p;                                   /* IDAT: поток zlib */
    memcpy(chunk + 4, "IDAT", 4);
    p = chunk + 8;
    *p++ = 0x78;                                 /* CMF: deflate, окно 32 КиБ */
    *p++ = 0x01;                                 /* FLG: 0x7801 делится на 31 */
    for (size_t off = 0; off < n;) {
        size_t k = n - off < STORED_MAX ? n - off : STORED_MAX;
        *p++ = off + k == n;                         /* BFINAL, BTYPE = 00 */
        *p++ = (unsigned char)(k & 0xFF);            /* LEN, младший байт первым */
        *p++ = (unsigned char)(k >> 8);
        *p++ = (unsigned char)(~k & 0xFF);           /* NLEN = ~LEN */
        *p++ = (unsigned char)((~k >> 8) & 0xFF);
        memcpy(p, raw + off, k);
        p += k;
        off += k;
    }
    p = put32(p, adler32_of(raw, n));
    p = close_chunk(chunk, (size_t)(p - (chunk + 8)));
    memcpy(p + 4, "IEND", 4);                    /* IEND: пустой */
    close_chunk(p, 0);
}
static uint64_t mix(uint64_t x)          /* splitmix64: номер -> «случайность» */
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* Сырые строки картинки номер serial: градиент и пять кругов. */
static void draw(unsigned char *raw, int w, int h, unsigned long serial)
{
    uint64_t r[16];
    for (int i = 0; i < 16; i++)
        r[i] = mix(serial * 16 + (uint64_t)i);
    for (int y = 0; y < h; y++) {
        unsigned char *row = raw + (size_t)y * (1 + 3 * (size_t)w);
        row[0] = 0;                              /* фильтр строки: None */
        unsigned char *px = row + 1;
        for (int c = 0; c < 3; c++)              /* фон: сверху вниз */
            px[c] = (unsigned char)((((r[0] >> (8 * c)) & 0xFF) * (uint64_t)(h - y)
                                     + ((r[1] >> (8 * c)) & 0xFF) * (uint64_t)y) / (uint64_t)h);
        for (int x = 1; x < w; x++)
            memcpy(px + 3 * x, px, 3);
        for (int k = 0; k < 5; k++) {
            long cx = (long)(r[2 + k] % (unsigned)w), cy = (long)((r[2 + k] >> 20) % (unsigned)h);
            long rad = 4 + (long)((r[2 + k] >> 40) % (unsigned)(1 + (w < h ? w : h) / 4));
            long dy = y - cy, dx = 0;
            if (dy * dy > rad * rad)
                continue;
            while ((dx + 1) * (dx + 1) + dy * dy <= rad * rad)
                dx++;                                    /* полуширина круга на этой строке */
            for (long x = cx - dx < 0 ? 0 : cx - dx; x <= cx + dx && x < w; x++)
                for (int c = 0; c < 3; c++)
                    px[3 * x + c] = (unsigned char)(r[8 + k] >> (8 * c));
        }
    }
}
enum { MAX_SIDE = 1024 };

static struct {
    double latency, jitter;       /* секунды: задержка ответа latency ± jitter */
    double idle;                  /* секунды на весь заголовок запроса */
} cfg = {0.250, 0.050, 5.0};

static struct {
    unsigned long serial;         /* номер последней выданной картинки */
    unsigned long requests;       /* запросов (кроме /stats) */
    long active, peak_active;     /* запросов в работе: сейчас и пик */
    long conns, peak_conns;       /* открытых соединений: сейчас и пик */
} stats;

static double next_delay(void)
{
    static uint64_t seq;
    double u = (double)(mix(seq++ ^ (uint64_t)time(NULL)) >> 11) / 9007199254740992.0;
    double d = cfg.latency + cfg.jitter * (2 * u - 1);
    return d > 0 ? d : 0;
}
static int parse_ms(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 600000)
        return -1;
    *out = v / 1000;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--idle-timeout") == 0) {    /* секунды, как в главе 8 */
            char *end = "";
            cfg.idle = i + 1 < argc ? strtod(argv[++i], &end) : 0;
            if (*end != '\0' || !(cfg.idle > 0)) {
                fprintf(stderr, "--idle-timeout: expected seconds > 0\n");
                return -1;
            }
            continue;
        }
        int lat = strcmp(argv[i], "--latency") == 0, jit = strcmp(argv[i], "--jitter") == 0;
        if (!lat && !jit)
            continue;                            /* --port разбирает net */
        if (i + 1 == argc || parse_ms(argv[++i], lat ? &cfg.latency : &cfg.jitter) < 0) {
            fprintf(stderr, "%s: expected milliseconds >= 0\n", argv[i - 1]);
            return -1;
        }
    }
    return 0;
}
/* recv, но не позже deadline (по часам цикла, aio_time): ждём столько,
   сколько до срока осталось, потом -- AIO_ETIMEDOUT. */
static aio_future *recv_before(aio_loop *loop, int fd, char *buf, size_t cap,
                               double deadline)
{
    aio_future *inner = aio_sock_recv(loop, fd, buf, cap);
    if (inner == NULL)
        return NULL;
    aio_future *w = aio_wait_for(loop, inner, deadline - aio_time(loop));
    aio_future_unref(inner);
    return w;
}
enum route_kind {
    R_REDIRECT,   /* /W/H: переадресация на новую картинку */
    R_IMAGE,      /* /cache/N_W_H.png: сама картинка */
    R_FAIL_404,   /* /404/W/H: «нет такой» */
    R_FAIL_CUT,   /* /cut/W/H: оборвать соединение посреди тела */
    R_FAIL_HANG,  /* /hang/W/H: не отвечать вовсе */
    R_STATS,      /* /stats и /stats/reset: счётчики */
    R_UNKNOWN     /* всё остальное: 404 сразу */
};

struct route {
    enum route_kind kind;
    int w, h;
    unsigned long serial;
    int reset;                   /* /stats/reset */
};
static int side_ok(int v)
{
    return v >= 1 && v <= MAX_SIDE;
}

static struct route parse_route(char *target)
{
    struct route r = {.kind = R_UNKNOWN};
    char *q = strchr(target, '?');
    if (q != NULL)
        *q = '\0';
    int n = 0;
    if (strcmp(target, "/stats") == 0 || strcmp(target, "/stats/reset") == 0)
        r = (struct route){.kind = R_STATS, .reset = target[6] != '\0'};
    else if (sscanf(target, "/cache/%lu_%d_%d.png%n", &r.serial, &r.w, &r.h, &n) == 3
             && target[n] == '\0')
        r.kind = R_IMAGE;
    else if (sscanf(target, "/%d/%d%n", &r.w, &r.h, &n) == 2 && target[n] == '\0')
        r.kind = R_REDIRECT;
    else if (sscanf(target, "/404/%d/%d%n", &r.w, &r.h, &n) == 2)
        r.kind = R_FAIL_404;
    else if (sscanf(target, "/cut/%d/%d%n", &r.w, &r.h, &n) == 2)
        r.kind = R_FAIL_CUT;
    else if (strncmp(target, "/hang", 5) == 0)
        r.kind = R_FAIL_HANG;
    if ((r.kind == R_IMAGE || r.kind == R_REDIRECT || r.kind == R_FAIL_CUT)
        && !(side_ok(r.w) && side_ok(r.h)))
        r.kind = R_UNKNOWN;
    return r;
}
/* Длина заголовка запроса вместе с пустой строкой, 0 -- ещё не весь. */
static size_t head_length(const char *buf)
{
    const char *end = strstr(buf, "\r\n\r\n");
    return end != NULL ? (size_t)(end - buf) + 4 : 0;
}

static int asks_close(const char *head, size_t len)
{
    for (const char *l = strchr(head, '\n'); l != NULL && l < head + len; l = strchr(l + 1, '\n'))
        if (strncasecmp(l + 1, "Connection:", 11) == 0 && strstr(l, "close") != NULL
            && strstr(l, "close") < strchr(l + 1, '\n'))
            return 1;
    return 0;
}
/* Заголовок ответа и body_len байтов тела (само тело -- забота
   вызвавшего) в новом буфере; длина заголовка -- в *head_len. */
static unsigned char *reply(int status, const char *extra, const char *type,
                            size_t body_len, int keep, size_t *head_len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n\r\n",
                     status, http_reason(status), extra, type, body_len,
                     keep ? "keep-alive" : "close");
    unsigned char *out = malloc((size_t)n + body_len + 1);
    if (out != NULL)
        memcpy(out, head, (size_t)n + 1);
    *head_len = (size_t)n;
    return out;
}
/* Весь ответ на запрос r: буфер из malloc, его длина в *len. */
static unsigned char *respond(const struct route *r, int keep, size_t *len)
{
    char text[512];
    size_t head = 0;
    unsigned char *out;
    switch (r->kind) {
    case R_REDIRECT:
        snprintf(text, sizeof text, "Location: /cache/%06lu_%d_%d.png\r\n",
                 ++stats.serial, r->w, r->h);
        out = reply(302, text, "text/plain", 0, keep, &head);
        *len = head;
        return out;
    case R_IMAGE:
    case R_FAIL_CUT:
        {
            static unsigned char raw[MAX_SIDE * (1 + 3 * MAX_SIDE)];  /* сырые строки: одни на всех */
            size_t size = png_size(r->w, r->h);
            out = reply(200, "", "image/png", size, keep, &head);
            if (out != NULL) {
                draw(raw, r->w, r->h, r->kind == R_IMAGE ? r->serial : ++stats.serial);
                png_encode(out + head, r->w, r->h, raw);
            }
            *len = head + (r->kind == R_FAIL_CUT ? size / 2 : size);
            return out;
        }
    case R_STATS:
        snprintf(text, sizeof text, "requests %lu\nactive %ld\npeak_active %ld\n"
                 "connections %ld\npeak_connections %ld\n", stats.requests, stats.active,
                 stats.peak_active, stats.conns, stats.peak_conns);
        if (r->reset) {                          /* счёт заново с этой минуты */
            stats.requests = 0;
            stats.peak_active = stats.active;
            stats.peak_conns = stats.conns;
        }
        break;
    default:
        snprintf(text, sizeof text, "Not found\n");
    }
    out = reply(r->kind == R_STATS ? 200 : 404, "", "text/plain", strlen(text), keep, &head);
    if (out != NULL)
        memcpy(out + head, text, strlen(text));
    *len = head + strlen(text);
    return out;
}
struct conn {
    aio_loop *loop;
    int fd;
    size_t len, head;            /* байтов в buf; длина заголовка запроса */
    double deadline;             /* срок, к которому заголовок должен прийти */
    int keep, counted;           /* держать соединение; запрос учтён в active */
    struct route route;
    unsigned char *out;          /* ответ целиком */
    size_t out_len;
    gen_value r;
    gen_error err;
    char buf[HTTP_HEAD_MAX];
};

static void request_begin(struct conn *f)
{
    f->counted = 1;
    stats.requests++;
    if (++stats.active > stats.peak_active)
        stats.peak_active = stats.active;
}

static void request_end(struct conn *f)
{
    if (f->counted)
        stats.active--;
    f->counted = 0;
}
static int conn_body(gen *g)
{
    struct conn *f = gen_locals(g);
    GEN_BEGIN(g);
    if (++stats.conns > stats.peak_conns)
        stats.peak_conns = stats.conns;
    for (;;) {
        f->deadline = aio_time(f->loop) + cfg.idle;
        while ((f->head = head_length(f->buf)) == 0) {
            if (f->len == sizeof f->buf - 1)
                GEN_RETURN(g, gen_none());           /* заголовок не влез: до свидания */
            if (aio_time(f->loop) >= f->deadline)
                GEN_RETURN(g, gen_none());           /* срок вышел, а заголовка всё нет */
            AIO_AWAIT_NEW_CATCH(g, f->r, f->err, recv_before(f->loop, f->fd, f->buf + f->len, sizeof f->buf - 1 - f->len, f->deadline));
            if (f->err.code != 0 || f->r.i == 0)
                GEN_RETURN(g, gen_none());           /* срок, ошибка, отмена или клиент ушёл */
            f->len += (size_t)f->r.i;
            f->buf[f->len] = '\0';
        }
        {
            struct http_request req;
            const char *why;
            if (http_parse_request_line(f->buf, f->head, &req, &why) < 0)
                GEN_RETURN(g, gen_none());           /* не HTTP: молча закрываем */
            f->route = parse_route(req.target);
            f->keep = strcmp(req.version, "HTTP/1.1") == 0 && !asks_close(f->buf, f->head);
            memmove(f->buf, f->buf + f->head, f->len - f->head + 1);
            f->len -= f->head;
        }
        if (f->route.kind == R_FAIL_HANG) {
            request_begin(f);
            do
                AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sock_recv(f->loop, f->fd, f->buf, sizeof f->buf - 1));
            while (f->err.code == 0 && f->r.i > 0);
            GEN_RETURN(g, gen_none());
        }
        if (f->route.kind != R_STATS && f->route.kind != R_UNKNOWN) {
            request_begin(f);
            AIO_AWAIT_NEW(g, f->r, aio_sleep(f->loop, next_delay()));
        }
        f->out = respond(&f->route, f->keep, &f->out_len);
        if (f->out == NULL)
            GEN_RAISE(g, -ENOMEM, "no memory for a reply");
        AIO_AWAIT_NEW_CATCH(g, f->r, f->err, aio_sock_sendall(f->loop, f->fd, f->out, f->out_len));
        free(f->out);
        f->out = NULL;
        request_end(f);
        if (f->err.code != 0 || f->route.kind == R_FAIL_CUT || !f->keep)
            break;
    }
    GEN_FINALLY(g);
    free(f->out);
    request_end(f);
    stats.conns--;
    close(f->fd);
    GEN_END(g);
}
static gen *new_conn(int fd, void *arg)
{
    return gen_new(conn_body, &(struct conn){.loop = arg, .fd = fd}, sizeof(struct conn));
}

struct serve {
    aio_loop *loop;
    int port;
    aio_server *srv;
    gen_value r;
};

static int serve_body(gen *g)
{
    struct serve *f = gen_locals(g);
    int rc;
    GEN_BEGIN(g);
    rc = aio_start_server(f->loop, "127.0.0.1", f->port, new_conn, f->loop, &f->srv);
    if (rc < 0)
        GEN_RAISE(g, rc, "cannot listen on 127.0.0.1:%d: %s", f->port, strerror(-rc));
    printf("Serving images on http://127.0.0.1:%d/WIDTH/HEIGHT (latency %.0f +- %.0f ms)\n",
           f->port, cfg.latency * 1000, cfg.jitter * 1000);
    AIO_AWAIT_NEW(g, f->r, aio_future_new(f->loop));   /* до сигнала */
    GEN_FINALLY(g);
    aio_server_close(f->srv);
    GEN_END(g);
}
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int port = net_port_from_args(argc, argv, 5002);
    if (port < 0 || parse_args(argc, argv) < 0)
        return 2;
    net_raise_open_files_limit();
    crc_init();
    aio_loop *loop;
    int rc = aio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "aio_loop_new: %s\n", strerror(-rc));
        return 1;
    }
    gen_result r;
    rc = aio_run(loop, gen_new(serve_body, &(struct serve){.loop = loop, .port = port},
                               sizeof(struct serve)), &r);
    aio_loop_free(loop);
    fprintf(stderr, "imageserver: %lu requests, peak %ld at once, peak %ld connections\n",
            stats.requests, stats.peak_active, stats.peak_conns);
    if (rc != 0 && rc != AIO_ECANCELLED) {
        fprintf(stderr, "imageserver: %s\n", r.error.msg);
        return 1;
    }
    return 0;
}
