/* Этот файл извлечён (tangle) из книги: book/08-asyncio.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef AIO_H
#define AIO_H

#include <stddef.h>
#include <sys/socket.h>

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
   ручку действителен, пока колбэк не начал выполняться и пока его не
   отменили; после этого ручку трогать нельзя. NULL -- ничего. */
void aio_handle_cancel(aio_handle *h);
/* Вызывать fn(arg) на каждой итерации, пока fd готов к чтению (к записи).
   Повторный вызов для того же fd заменяет колбэк. 0 или -errno
   селектора (-EBADF, -ENOMEM...). */
int aio_add_reader(aio_loop *loop, int fd, aio_callback *fn, void *arg);
int aio_add_writer(aio_loop *loop, int fd, aio_callback *fn, void *arg);

/* Перестать следить. 1 -- колбэк был и снят, 0 -- его не было. */
int aio_remove_reader(aio_loop *loop, int fd);
int aio_remove_writer(aio_loop *loop, int fd);
/* Когда придёт сигнал signo, цикл поставит fn(arg) в очередь готовых.
   Сигналы в процессе ловит только один цикл (-EBUSY для второго).
   0 или -errno. */
int aio_add_signal_handler(aio_loop *loop, int signo, aio_callback *fn,
                           void *arg);

/* Вернуть сигналу действие по умолчанию. 1 -- обработчик был, 0 -- нет. */
int aio_remove_signal_handler(aio_loop *loop, int signo);

#endif
