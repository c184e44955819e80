/* Этот файл извлечён (tangle) из книги: book/a-measurements.nw.
Не редактируйте его: правьте главу и запустите ./tangle.sh. */
#ifndef TRACE_H
#define TRACE_H

/* Трасса в формате Trace Event (JSON) для Perfetto и chrome://tracing.
   Одна на процесс: открыть, писать события, закрыть. Пока трасса не
   открыта, trace_enabled == 0, и макрос TRACE стоит одного сравнения. */
extern int trace_enabled;

#ifdef TRACE_NONE   /* только для замера цены: трассы нет совсем */
#define TRACE(call) do { } while (0)
#else
#define TRACE(call)                                                      \
    do {                                                                 \
        if (trace_enabled)                                               \
            trace_##call;                                                \
    } while (0)
#endif

/* Начать трассу в файле path. 0 или -errno; -EBUSY, если уже открыта. */
int trace_open(const char *path);

/* Дописать и закрыть. 0 или -errno (ошибка записи где-то по пути). */
int trace_close(void);

/* Дорожка lane (>= 0) называется name: задача, дескриптор, загрузка. */
void trace_lane(int lane, const char *name);

/* Отрезок на дорожке: начало с именем name и конец. Отрезки одной
   дорожки вложены правильно: конец закрывает последнее начало. */
void trace_begin(int lane, const char *name);
void trace_end(int lane);

/* Мгновенная отметка с именем name и необязательной подписью detail. */
void trace_instant(int lane, const char *name, const char *detail);

/* Дорожка 0 -- цикл; 1, 2, ... -- корутины и загрузки, в порядке
   trace_new_lane; TRACE_FD_LANE + 2 * fd + writer -- ожидание fd. */
enum { TRACE_LOOP = 0, TRACE_FD_LANE = 1000000 };

/* Выдать новую дорожку в *lane и назвать её name. */
void trace_new_lane(int *lane, const char *name);

/* Ожидание дескриптора fd на чтение (writer == 0) или запись: начало,
   конец и отметка name на дорожке "fd N read" (или write). */
void trace_fd_begin(int fd, int writer);
void trace_fd_end(int fd, int writer);
void trace_fd_event(int fd, int writer, const char *name);

/* Колбэк ключа --trace FILE для net_parse_args: открыть трассу в
   FILE и закрыть её при выходе. 0 или -1 (сообщение в stderr). */
int trace_option(void *unused, const char *path);

/* Строка таблицы net_parse_args (lib/net.h) для ключа --trace FILE. */
#define TRACE_OPTION                                                     \
    {.name = "trace", .kind = NET_OPT_CALL, .arg = "FILE",              \
     .help = "write what the program did to FILE (Trace Event JSON)",   \
     .call = trace_option}
#endif
