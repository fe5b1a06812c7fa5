/*
 * Internal logging (architecture.md §5): the library's only way to say
 * something outside a return code, routed to hollow_set_log()'s callback.
 * Use it for what no caller can be told through a return: failures on the
 * library's own threads (a watcher's refresh, a lease renewal).
 *
 * Log with no lock of the library held: the application's callback may
 * call back into the object that logs (common.h allows it).
 */
#ifndef HOLLOW_SRC_COMMON_LOG_H
#define HOLLOW_SRC_COMMON_LOG_H

#include <stdbool.h>

#include "common/error.h"
#include "hollow/common.h"

/* whether a message at `level` would be delivered (cheap: one atomic load) */
bool hollow__log_enabled(hollow_log_level level);

/* format and deliver one message; does not touch the thread's last error */
void hollow__log(hollow_log_level level, const char *fmt, ...)
    HOLLOW__PRINTF(2, 3);

#endif
