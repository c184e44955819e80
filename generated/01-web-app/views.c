/* Этот файл извлечён (tangle) из книги: book/01-web-app.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#include "views.h"

static const char index_page[] =
#include "templates/index.html.inc"
    ;

static const char blog_page[] =
#include "templates/blog.html.inc"
    ;

const char *webapp_index(const struct http_request *req)
{
    (void)req;
    return index_page;
}

const char *webapp_blog(const struct http_request *req)
{
    (void)req;
    return blog_page;
}

const struct http_route webapp_routes[] = {
    {"/", webapp_index},
    {"/blog", webapp_blog},
    {NULL, NULL},
};
