/* wb_log.h — the client's only logging channel.
 *
 * The client never writes to stdout/stderr itself: it calls the sink set here
 * (the filesystem routes it to syslog or --log-file, the CLI to stderr).
 * Nothing passed to wb_log may contain the API key; http.c redacts the
 * Authorization header in its debug hooks.
 */
#ifndef WB_LOG_H
#define WB_LOG_H

enum wb_log_level {
	WB_LOG_ERROR = 0,
	WB_LOG_WARN,
	WB_LOG_INFO,
	WB_LOG_DEBUG
};

typedef void (*wb_log_sink)(void *ud, enum wb_log_level level,
			    const char *line);

/* Install the sink (NULL = discard) and the most verbose level delivered.
 * Not thread-safe with concurrent logging: call once at start-up. */
void wb_log_set_sink(wb_log_sink sink, void *ud, enum wb_log_level max_level);

int wb_log_enabled(enum wb_log_level level);

void wb_log(enum wb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
