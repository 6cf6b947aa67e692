/* wb_strmap.h — a string-keyed hash map (open addressing, linear probing),
 * a public utility of the client library.
 *
 * Keys are borrowed: the caller keeps each key alive (and unchanged) while it
 * is in the map, typically because the key lives inside the value. Not
 * thread-safe: every user guards its map with its own lock.
 */
#ifndef WB_STRMAP_H
#define WB_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct wb_strmap_slot {
	const char *key; /* NULL = empty (removed slots hold a marker) */
	void *val;
	uint64_t hash;
};

struct wb_strmap {
	struct wb_strmap_slot *slots;
	size_t cap;    /* power of two, or 0 */
	size_t used;   /* live entries */
	size_t filled; /* live entries + tombstones */
};

/* FNV-1a 64 of a string, continuing from h (start with WB_HASH_SEED); also
 * what the filesystem derives stable inode numbers from. */
uint64_t wb_hash_str(uint64_t h, const char *s);
#define WB_HASH_SEED 0xcbf29ce484222325ULL

void wb_strmap_init(struct wb_strmap *m);
void wb_strmap_clear(struct wb_strmap *m); /* frees slots, not values */

void *wb_strmap_get(const struct wb_strmap *m, const char *key);

/* Insert or replace; returns 0 or -ENOMEM. *old (may be NULL) receives the
 * replaced value, or NULL. */
int wb_strmap_put(struct wb_strmap *m, const char *key, void *val, void **old);

/* Remove key; returns its value or NULL. */
void *wb_strmap_del(struct wb_strmap *m, const char *key);

/* Iterate: start with *pos = 0; returns the next live value or NULL at the
 * end. The map must not change during the iteration. */
void *wb_strmap_next(const struct wb_strmap *m, size_t *pos);

#endif
