/* wfs_md5.h — MD5 (RFC 1321), incremental: the disk cache verifies each
 * object against its manifest digest before publishing it. Our own code,
 * so the fixed dependency set (libfuse3, libcurl, cJSON) needs no crypto
 * library; MD5 here is an integrity check, not a security boundary.
 */
#ifndef WFS_MD5_H
#define WFS_MD5_H

#include <stddef.h>
#include <stdint.h>

#define WFS_MD5_LEN 16

struct wfs_md5 {
	uint32_t h[4];
	uint64_t len;      /* bytes fed so far */
	uint8_t block[64]; /* a partial block, len % 64 bytes of it */
};

void wfs_md5_init(struct wfs_md5 *m);
void wfs_md5_update(struct wfs_md5 *m, const void *data, size_t len);
/* The digest; m must be initialised again before reuse. */
void wfs_md5_final(struct wfs_md5 *m, uint8_t out[WFS_MD5_LEN]);

#endif
