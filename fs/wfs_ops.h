/* wfs_ops.h — the FUSE low-level operations table of wandbfs (ops.c).
 * The session userdata must be the mount's struct wfs. */
#ifndef WFS_OPS_H
#define WFS_OPS_H

#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops wfs_ops;

struct wfs;

/* After the session loop: free the handles the kernel never released. */
void wfs_ops_release_all(struct wfs *fs);

#endif
