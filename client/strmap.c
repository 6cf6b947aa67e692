/* strmap.c — the string-keyed hash map (wb_strmap.h): the client's run-name
 * sets, and the filesystem's cache, in-flight table, name listings and
 * directory nodes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wb_strmap.h"

/* Marks a removed slot so probe chains stay intact. */
static const char gone_mark;
#define GONE (&gone_mark)

uint64_t wb_hash_str(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void wb_strmap_init(struct wb_strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void wb_strmap_clear(struct wb_strmap *m)
{
	free(m->slots);
	wb_strmap_init(m);
}

/* Slot holding key, or NULL. */
static struct wb_strmap_slot *find(const struct wb_strmap *m, const char *key,
				   uint64_t h)
{
	size_t mask, i;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct wb_strmap_slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != GONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

void *wb_strmap_get(const struct wb_strmap *m, const char *key)
{
	struct wb_strmap_slot *s = find(m, key, wb_hash_str(WB_HASH_SEED, key));

	return s ? s->val : NULL;
}

/* Rebuild with room for at least `want` live entries at load <= 1/2. */
static int grow(struct wb_strmap *m, size_t want)
{
	size_t cap = 16;
	struct wb_strmap_slot *slots;

	while (cap < want * 2)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct wb_strmap_slot *s = &m->slots[i];
		size_t j;

		if (!s->key || s->key == GONE)
			continue;
		j = s->hash & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->filled = m->used;
	return 0;
}

int wb_strmap_put(struct wb_strmap *m, const char *key, void *val, void **old)
{
	uint64_t h = wb_hash_str(WB_HASH_SEED, key);
	struct wb_strmap_slot *s = find(m, key, h);
	size_t i;

	if (old)
		*old = NULL;
	if (s) {
		if (old)
			*old = s->val;
		s->key = key;
		s->val = val;
		return 0;
	}
	if ((m->filled + 1) * 4 > m->cap * 3) {
		int rc = grow(m, m->used + 1);

		if (rc)
			return rc;
	}
	for (i = h & (m->cap - 1); m->slots[i].key && m->slots[i].key != GONE;
	     i = (i + 1) & (m->cap - 1))
		;
	if (!m->slots[i].key)
		m->filled++;
	m->slots[i] = (struct wb_strmap_slot){ key, val, h };
	m->used++;
	return 0;
}

void *wb_strmap_del(struct wb_strmap *m, const char *key)
{
	struct wb_strmap_slot *s = find(m, key, wb_hash_str(WB_HASH_SEED, key));
	void *val;

	if (!s)
		return NULL;
	val = s->val;
	s->key = GONE;
	s->val = NULL;
	m->used--;
	if (m->used == 0) {
		/* Empty: drop tombstones so long-lived maps do not degrade. */
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
		m->filled = 0;
	}
	return val;
}

void *wb_strmap_next(const struct wb_strmap *m, size_t *pos)
{
	while (*pos < m->cap) {
		const struct wb_strmap_slot *s = &m->slots[(*pos)++];

		if (s->key && s->key != GONE)
			return s->val;
	}
	return NULL;
}
