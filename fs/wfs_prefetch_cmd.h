/* wfs_prefetch_cmd.h — `wandbfs prefetch PATH...`, the cache warmer (see
 * prefetch_cmd.c). */
#ifndef WFS_PREFETCH_CMD_H
#define WFS_PREFETCH_CMD_H

/* argv[0] is "prefetch". Returns the process exit status: 0 when every
 * file was read whole, 1 when one failed or a PATH is not in a wandbfs
 * mount, 2 for a usage error. */
int wfs_prefetch_cmd(int argc, char *argv[]);

#endif
