/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <sys/types.h>

enum {
    HTTP_HEAD_MAX = 8192,    /* строка запроса + заголовки, с нулём в конце */
    HTTP_METHOD_MAX = 16,    /* "GET", "POST", ... */
    HTTP_TARGET_MAX = 2048,  /* "/blog?page=2" */
    HTTP_VERSION_MAX = 16    /* "HTTP/1.1" */
};

struct http_request {
    char method[HTTP_METHOD_MAX];
    char target[HTTP_TARGET_MAX];
    char version[HTTP_VERSION_MAX];
};
typedef const char *(*http_view)(const struct http_request *req);

struct http_route {
    const char *path;  /* "/blog"; NULL в последней строке таблицы */
    http_view view;
};

struct http_reply {
    int status;         /* 200, 400, 404, 405 */
    const char *body;   /* страница; NULL: тело ошибки по status и detail */
    const char *detail; /* для 400: что не так с запросом */
};
/* Читать из fd, пока не придёт пустая строка (конец заголовка запроса),
 * не больше cap-1 байтов; buf всегда кончается нулём. Возвращает число
 * прочитанных байтов (и тогда, когда клиент закрыл соединение, не дописав
 * заголовок), 0 — если он ушёл, не прислав ничего, -E2BIG — буфер полон,
 * а конца нет, -errno — ошибка recv. */
ssize_t http_read_head(int fd, char *buf, size_t cap);

/* Разобрать первую строку из head[0..len): "МЕТОД цель HTTP/1.x".
 * 0 или -EINVAL; тогда *why — объяснение для ответа 400. */
int http_parse_request_line(const char *head, size_t len,
                            struct http_request *req, const char **why);

/* Маршрут для цели запроса (часть после '?' не учитывается) или NULL. */
const struct http_route *http_find_route(const struct http_route *routes,
                                         const char *target);

/* Решить, что ответить на заголовок запроса head[0..len). */
void http_route_request(const struct http_route *routes, const char *head,
                        size_t len, struct http_reply *reply);
/* Стандартная фраза кода статуса: 404 -> "Not Found". */
const char *http_reason(int status);

/* Тело страницы ошибки: "<h1>404<p>Not found</p></h1>". Длина или -ENOSPC. */
int http_error_body(char *buf, size_t cap, int status, const char *detail);

/* Строка статуса и заголовки ответа с телом длины body_len, с пустой
 * строкой в конце; keep_alive -- соединение после ответа останется
 * открытым. Длина или -ENOSPC. */
int http_format_head(char *buf, size_t cap, int status, size_t body_len,
                     int keep_alive);

/* Отправить ответ целиком. 0 или -errno. */
int http_send_reply(int fd, const struct http_reply *reply);

#endif
