/* wfs_strmap.h — a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are borrowed: the caller keeps each key alive (and unchanged) while it
 * is in the map, typically because the key lives inside the value. Not
 * thread-safe: every user guards its map with its own lock.
 */
#ifndef WFS_STRMAP_H
#define WFS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct wfs_strmap_slot {
	const char *key;  /* NULL = empty (removed slots hold a marker) */
	void *val;
	uint64_t hash;
};

struct wfs_strmap {
	struct wfs_strmap_slot *slots;
	size_t cap;       /* power of two, or 0 */
	size_t used;      /* live entries */
	size_t filled;    /* live entries + tombstones */
};

/* FNV-1a 64 of a string (also used for stable inode numbers). */
uint64_t wfs_hash_str(uint64_t h, const char *s);
#define WFS_HASH_SEED 0xcbf29ce484222325ULL

void wfs_strmap_init(struct wfs_strmap *m);
void wfs_strmap_clear(struct wfs_strmap *m);  /* frees slots, not values */

void *wfs_strmap_get(const struct wfs_strmap *m, const char *key);

/* Insert or replace; returns 0 or -ENOMEM. *old (may be NULL) receives the
 * replaced value, or NULL. */
int wfs_strmap_put(struct wfs_strmap *m, const char *key, void *val,
		   void **old);

/* Remove key; returns its value or NULL. */
void *wfs_strmap_del(struct wfs_strmap *m, const char *key);

/* Iterate: start with *pos = 0; returns the next live value or NULL at the
 * end. The map must not change during the iteration. */
void *wfs_strmap_next(const struct wfs_strmap *m, size_t *pos);

#endif
