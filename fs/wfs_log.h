/* wfs_log.h — where the mount's log lines go (the client's and ours, both
 * written through wb_log): stderr in the foreground, --log-file when given,
 * syslog once daemonized. -d or --log-file log every API call with its
 * duration (debug level); otherwise warnings and errors only. The API key is
 * never logged: the client redacts it and the fs never sees it after start.
 */
#ifndef WFS_LOG_H
#define WFS_LOG_H

/* Start logging to stderr, or to path (appended) when non-NULL. Returns 0
 * or a negative errno (the file cannot be opened). */
int wfs_log_start(const char *path, int debug);

/* After daemonizing: stderr is gone, so lines not going to a file go to
 * syslog from now on. */
void wfs_log_daemonized(void);

void wfs_log_stop(void);

#endif
