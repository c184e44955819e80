/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef WEBAPP_VIEWS_H
#define WEBAPP_VIEWS_H

#include "http.h"

const char *webapp_index(const struct http_request *req);
const char *webapp_blog(const struct http_request *req);

/* Таблица маршрутов приложения: "/" и "/blog", в конце {NULL, NULL}. */
extern const struct http_route webapp_routes[];

#endif
