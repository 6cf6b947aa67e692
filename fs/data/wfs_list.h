/* wfs_list.h — an intrusive circular doubly linked list, for the data
 * plane's queues, LRU orders and read-ahead list. A head is a `struct
 * wfs_link` linked to itself when empty; an element embeds one and is
 * found back with WFS_LIST_ENTRY. Not thread-safe: callers lock. */
#ifndef WFS_LIST_H
#define WFS_LIST_H

#include <stddef.h>

struct wfs_link {
	struct wfs_link *prev, *next;
};

#define WFS_LIST_ENTRY(lnk, type, member) \
	((type *)(void *)((char *)(lnk)-offsetof(type, member)))

static inline void wfs_list_init(struct wfs_link *h)
{
	h->prev = h->next = h;
}

static inline int wfs_list_empty(const struct wfs_link *h)
{
	return h->next == h;
}

static inline void wfs_list_add_tail(struct wfs_link *h, struct wfs_link *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

/* Unlink l (a no-op on an element linked to itself). */
static inline void wfs_list_del(struct wfs_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

#endif
