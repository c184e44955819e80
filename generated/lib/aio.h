/* Этот файл извлечён (tangle) из книги: book/08-event-loop.nw book/09-tasks.nw book/10-sockets.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef AIO_H
#define AIO_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include "gen.h"
#include "selector.h"
#include "trace.h"   /* трасса цикла и ключ --trace (приложение А) */

typedef struct aio_loop aio_loop;

/* Новый цикл событий в *out; селектор -- лучший из главы 4 (или тот,
   что назван в $SELECTOR_BACKEND). 0, -ENOMEM или ошибка селектора. */
int aio_loop_new(aio_loop **out);

/* Закрыть цикл и освободить всё, что он держит: очередь готовых,
   таймеры, регистрации дескрипторов (сами дескрипторы не закрывает),
   незавершённые задачи. Нельзя вызывать из работающего цикла. */
void aio_loop_free(aio_loop *loop);

/* Одна итерация: подождать готовности дескрипторов (не дольше, чем до
   ближайшего таймера), поставить в очередь их колбэки и наступившие
   таймеры, выполнить ровно те колбэки, что стояли в очереди в этот
   момент. 0 или -errno от селектора; -EBUSY, если цикл уже работает. */
int aio_loop_run_once(aio_loop *loop);

/* Крутить итерации, пока не позовут aio_loop_stop. 0 или -errno. */
int aio_loop_run_forever(aio_loop *loop);

/* Попросить цикл остановиться после текущей итерации. */
void aio_loop_stop(aio_loop *loop);

/* Часы цикла: секунды по монотонным часам (CLOCK_MONOTONIC). */
double aio_time(const aio_loop *loop);
typedef void aio_callback(void *arg);
typedef struct aio_handle aio_handle;

/* Поставить fn(arg) в очередь готовых: он выполнится на одной из
   следующих итераций, в порядке постановки. NULL: нет памяти или цикл
   закрыт. */
aio_handle *aio_call_soon(aio_loop *loop, aio_callback *fn, void *arg);

/* Выполнить fn(arg) через delay секунд (call_later) или в момент when
   по часам цикла (call_at). Таймеры с одинаковым сроком срабатывают в
   порядке постановки. NULL: нет памяти или цикл закрыт. */
aio_handle *aio_call_later(aio_loop *loop, double delay, aio_callback *fn,
                           void *arg);
aio_handle *aio_call_at(aio_loop *loop, double when, aio_callback *fn,
                        void *arg);

/* Отменить колбэк, который ещё не начал выполняться. Указатель на
   хэндл действителен, пока колбэк не начал выполняться и пока его не
   отменили; после этого хэндл трогать нельзя. NULL -- ничего. */
void aio_handle_cancel(aio_handle *h);
/* Колбэк дескриптора: events -- что сообщил селектор (SELECTOR_READ,
   SELECTOR_WRITE, SELECTOR_ERROR из selector.h). */
typedef void aio_io_callback(void *arg, int events);

/* Вызывать fn(arg, events) на каждой итерации, пока fd готов к чтению
   (к записи). Повторный вызов для того же fd заменяет колбэк. 0 или
   -errno селектора (-EBADF, -ENOMEM...). */
int aio_add_reader(aio_loop *loop, int fd, aio_io_callback *fn, void *arg);
int aio_add_writer(aio_loop *loop, int fd, aio_io_callback *fn, void *arg);

/* Перестать следить. 1 -- колбэк был и снят, 0 -- его не было. */
int aio_remove_reader(aio_loop *loop, int fd);
int aio_remove_writer(aio_loop *loop, int fd);

/* Снять читателя и писателя fd и закрыть его: так закрывают дескриптор,
   на котором ждали операции с сокетами (глава 10). 0 или -errno. */
int aio_close(aio_loop *loop, int fd);
/* Когда придёт сигнал signo, цикл поставит fn(arg) в очередь готовых.
   Сигналы в процессе ловит только один цикл (-EBUSY для второго).
   0 или -errno. */
int aio_add_signal_handler(aio_loop *loop, int signo, aio_callback *fn,
                           void *arg);

/* Вернуть сигналу действие по умолчанию. 1 -- обработчик был, 0 -- нет. */
int aio_remove_signal_handler(aio_loop *loop, int signo);
typedef struct aio_future aio_future;

/* Коды ошибок: как везде в книге, -errno. */
enum {
    AIO_ECANCELLED = -ECANCELED,  /* Future отменён: CancelledError */
    AIO_ETIMEDOUT = -ETIMEDOUT    /* истёк срок wait_for: TimeoutError */
};

/* Новый Future в состоянии «ожидает» с одной ссылкой у вызвавшего.
   NULL, если нет памяти. */
aio_future *aio_future_new(aio_loop *loop);

/* Взять ещё одну ссылку / отдать свою. Последняя отданная освобождает. */
aio_future *aio_future_ref(aio_future *f);
void aio_future_unref(aio_future *f);
/* Состояние: ожидает, завершён (результатом или ошибкой), отменён. */
int aio_future_done(const aio_future *f);       /* завершён или отменён */
int aio_future_cancelled(const aio_future *f);

/* Исход завершённого Future: 0 и результат в *value, либо код ошибки
   (у отменённого -- AIO_ECANCELLED) и сама ошибка в *error. У ещё не
   завершённого -- -EAGAIN (InvalidStateError в Python). Любой из
   указателей может быть NULL. */
int aio_future_outcome(aio_future *f, gen_value *value, gen_error *error);
/* Завершить результатом или ошибкой (error->code != 0). 0, или -EINVAL,
   если Future уже завершён: второй раз результат не ставят. */
int aio_future_set_result(aio_future *f, gen_value value);
int aio_future_set_error(aio_future *f, const gen_error *error);

/* Отменить. 1 -- отмена принята (у Task -- запрошена), 0 -- поздно:
   Future уже завершён. msg попадёт в текст ошибки (NULL -- без текста). */
int aio_future_cancel(aio_future *f, const char *msg);
typedef void aio_done_callback(aio_future *f, void *arg);

/* Когда f завершится, цикл вызовет fn(f, arg) -- всегда через очередь
   готовых, никогда прямо из set_result или cancel; уже завершённый f
   ставит fn в очередь сразу. 0 или -ENOMEM. */
int aio_future_add_done_callback(aio_future *f, aio_done_callback *fn,
                                 void *arg);

/* Убрать ещё не поставленные в очередь колбэки (fn, arg). Сколько убрано. */
int aio_future_remove_done_callback(aio_future *f, aio_done_callback *fn,
                                    void *arg);
/* Обернуть корутину в задачу и поставить её первый шаг в очередь
   готовых. Задача -- это Future: её ждут, отменяют и освобождают теми же
   функциями. Корутина переходит во владение задачи (и освобождается
   вместе с ней, даже при ошибке). Одна ссылка -- у вызвавшего; пока
   задача не завершилась, её держит и сам цикл, так что ссылку можно
   сразу отдать. NULL: нет памяти или coro == NULL. */
aio_future *aio_create_task(aio_loop *loop, gen *coro);

/* Задача, чей шаг выполняется сейчас, или NULL (current_task). */
aio_future *aio_current_task(aio_loop *loop);

/* Сколько задач цикла ещё не завершилось. */
size_t aio_pending_tasks(const aio_loop *loop);
/* Внутри корутины, которую ведёт задача:  res = await fut.
   fut -- Future или задача; выражение без побочных эффектов (обычно
   поле кадра): оно вычисляется несколько раз. Ссылка остаётся у
   корутины. Результат пишется в res (gen_value); ошибка Future (и
   отмена) поднимается в корутине, как в GEN_YIELD. Один await на
   строку, как и любая остановка генератора. */
#define AIO_AWAIT(g, res, fut)                                           \
    do {                                                                 \
        gen_error aio__e;                                                \
        if (!aio__ready((fut), 0, &(res), &aio__e)) {                    \
            GEN_YIELD(g, gen_ptr(aio_future_ref(fut)));                  \
            (res) = gen_received(g);                                     \
        } else if (aio__e.code != 0) {                                   \
            GEN_RAISE_ERR(g, aio__e);                                    \
        }                                                                \
    } while (0)

/* То же, но ошибку не поднимать, а положить в err (err.code == 0 --
   ошибки не было). */
#define AIO_AWAIT_CATCH(g, res, err, fut)                                \
    do {                                                                 \
        if (!aio__ready((fut), 0, &(res), &(err))) {                     \
            GEN_YIELD_CATCH(g, gen_ptr(aio_future_ref(fut)), err);       \
            if ((err).code == 0)                                         \
                (res) = gen_received(g);                                 \
        }                                                                \
    } while (0)
/* res = await <новый Future>: expr вычисляется один раз и отдаёт свою
   ссылку (как aio_sleep или aio_sock_recv); её отпустит задача. NULL
   из expr поднимается в корутине как -ENOMEM. */
#define AIO_AWAIT_NEW(g, res, expr)                                      \
    do {                                                                 \
        gen_error aio__e;                                                \
        aio_future *aio__f = (expr);                                     \
        if (!aio__ready(aio__f, 1, &(res), &aio__e)) {                   \
            GEN_YIELD(g, gen_ptr(aio__f));                               \
            (res) = gen_received(g);                                     \
        } else if (aio__e.code != 0) {                                   \
            GEN_RAISE_ERR(g, aio__e);                                    \
        }                                                                \
    } while (0)

#define AIO_AWAIT_NEW_CATCH(g, res, err, expr)                           \
    do {                                                                 \
        aio_future *aio__f = (expr);                                     \
        if (!aio__ready(aio__f, 1, &(res), &(err))) {                    \
            GEN_YIELD_CATCH(g, gen_ptr(aio__f), err);                    \
            if ((err).code == 0)                                         \
                (res) = gen_received(g);                                 \
        }                                                                \
    } while (0)
/* res = await coro: корутина sub (поле кадра) выполняется прямо внутри
   текущей, как yield from; всё, чего она ждёт, ждёт и задача. Когда sub
   закончилась, она освобождается и поле обнуляется. Если она упала,
   ошибка поднимается дальше, а освободить sub -- дело GEN_FINALLY
   (gen_free(NULL) ничего не делает). */
#define AIO_AWAIT_CORO(g, res, sub)                                      \
    do {                                                                 \
        GEN_YIELD_FROM(g, sub);                                          \
        (res) = gen_received(g);                                         \
        gen_free(sub);                                                   \
        (sub) = NULL;                                                    \
    } while (0)

/* Уже завершён ли f? Если да, пишет исход в *res или *err (err->code == 0
   при успехе) и, если take, отпускает ссылку. f == NULL -- «завершён
   ошибкой -ENOMEM». Для макросов await. */
int aio__ready(aio_future *f, int take, gen_value *res, gen_error *err);
/* Future, который завершится (результат -- «ничего») через delay секунд.
   Отмена снимает таймер. NULL -- нет памяти. */
aio_future *aio_sleep(aio_loop *loop, double delay);
/* Future, который завершится, когда завершатся все n Future (или задач)
   из futs. Результат -- gen_ptr на массив из n gen_value, их результатов
   по порядку; массив живёт, пока жив сам gather. Первая ошибка
   кого-либо из них сразу становится ошибкой gather (остальные
   продолжают работать). Отмена gather отменяет всех. n == 0 --
   завершён сразу. Ссылки на futs gather берёт сам. */
aio_future *aio_gather(aio_loop *loop, aio_future *const *futs, size_t n);
/* Future с исходом inner, но если за timeout секунд inner не завершится,
   inner отменяется, а ошибка -- AIO_ETIMEDOUT. Отмена результата
   отменяет и inner. Ссылку на inner берёт сам. */
aio_future *aio_wait_for(aio_loop *loop, aio_future *inner, double timeout);
/* Главный цикл программы, как asyncio.run: обернуть main в задачу,
   крутить цикл, пока она не завершится (SIGINT и SIGTERM её отменяют),
   затем отменить и дождаться все оставшиеся задачи. Исход main -- в *out
   (если не NULL). 0, если main вернула значение, иначе код её ошибки
   (AIO_ECANCELLED -- остановлена сигналом) или -errno цикла. */
int aio_run(aio_loop *loop, gen *main, gen_result *out);

/* Крутить цикл, пока f не завершится. 0, -EINTR (цикл остановили
   раньше) или -errno селектора. */
int aio_loop_run_until_complete(aio_loop *loop, aio_future *f);

/* Отменить все незавершённые задачи и крутить цикл, пока они не
   завершатся, но не дольше секунды по часам цикла: кто не успел, того
   закроет aio_loop_free. */
void aio_loop_shutdown(aio_loop *loop);
/* Awaitable-операции над неблокирующими сокетами. Каждая сначала
   пробует сразу, и только если ядро ответило «подождите» (EAGAIN),
   подписывается на готовность дескриптора. Ошибка -- -errno с текстом.
   Одновременно на один дескриптор -- одна операция чтения и одна записи
   (иначе -EBUSY). NULL -- нет памяти. */

/* Принять подключение: результат -- gen_int(fd) неблокирующего сокета. */
aio_future *aio_sock_accept(aio_loop *loop, int listen_fd);

/* Прочитать до cap байтов в buf: gen_int(n), 0 -- собеседник закрыл. */
aio_future *aio_sock_recv(aio_loop *loop, int fd, void *buf, size_t cap);

/* Отправить все len байтов, сколько бы частей ни понадобилось:
   gen_int(len). buf должен жить, пока Future не завершится. */
aio_future *aio_sock_sendall(aio_loop *loop, int fd, const void *buf,
                             size_t len);

/* Подключиться: gen_none() или ошибка (-ECONNREFUSED...). */
aio_future *aio_sock_connect(aio_loop *loop, int fd,
                             const struct sockaddr *addr, socklen_t len);
/* Сервер в духе asyncio.start_server: на каждое подключение вызывается
   make(fd, arg), и возвращённая корутина становится задачей. Сокет fd
   неблокирующий и принадлежит корутине: закрыть его -- её дело. */
typedef gen *aio_client_handler(int fd, void *arg);
typedef struct aio_server aio_server;

/* Слушать host:port (net_listen) и принимать подключения на цикле.
   0 и сервер в *out, или -errno. */
int aio_start_server(aio_loop *loop, const char *host, int port,
                     aio_client_handler *make, void *arg, aio_server **out);

/* Перестать принимать и закрыть слушающий сокет. Уже запущенные задачи
   клиентов продолжают работать. */
void aio_server_close(aio_server *srv);

#endif
