/* node.c — the node table and what is generic to every node (wfs_node.h):
 * creation and lifetime (kernel lookups, live children), stable inode
 * numbers, attributes of every kind, the reader of a streamed file,
 * directory entry lists, extended attribute lists and fixed-children
 * directory types. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"
#include "wfs_node.h"

struct wfs_nodes {
	pthread_mutex_t mu;
	struct wfs_node root;
	size_t count;
	uint64_t next_generation;
	int full_logged;
};

/* ---- directory entries --------------------------------------------------- */

int wfs_dirents_add(struct wfs_dirents *d, const char *name,
		    const struct wfs_node_type *type)
{
	char *copy;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct wfs_dirent *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	d->v[d->n++] = (struct wfs_dirent){ copy, type };
	return 0;
}

void wfs_dirents_free(struct wfs_dirents *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- extended attributes ------------------------------------------------- */

int wfs_xattrs_add(struct wfs_xattrs *x, const char *name, const char *value,
		   size_t len)
{
	struct wfs_xattr a = { 0 };

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;
		struct wfs_xattr *v = realloc(x->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	a.name = strdup(name);
	a.value = malloc(len ? len : 1);
	if (!a.name || !a.value) {
		free(a.name);
		free(a.value);
		return -ENOMEM;
	}
	memcpy(a.value, value, len);
	a.len = len;
	x->v[x->n++] = a;
	return 0;
}

int wfs_xattrs_add_str(struct wfs_xattrs *x, const char *name,
		       const char *value)
{
	return value ? wfs_xattrs_add(x, name, value, strlen(value)) : 0;
}

int wfs_xattrs_add_int(struct wfs_xattrs *x, const char *name, int64_t value)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, value);
	return wfs_xattrs_add_str(x, name, num);
}

void wfs_xattrs_free(struct wfs_xattrs *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].name);
		free(x->v[i].value);
	}
	free(x->v);
	memset(x, 0, sizeof(*x));
}

mode_t wfs_type_mode(const struct wfs_node_type *type)
{
	if (type->is_dir)
		return S_IFDIR;
	return type->readlink ? S_IFLNK : S_IFREG;
}

int wfs_fixed_lookup(const struct wfs_fixed_child *tab, const char *name,
		     const struct wfs_node_type **type)
{
	for (; tab->name; tab++)
		if (strcmp(tab->name, name) == 0) {
			*type = tab->type;
			return 0;
		}
	return -ENOENT;
}

int wfs_fixed_list(const struct wfs_fixed_child *tab, struct wfs_dirents *out)
{
	int rc = 0;

	for (; !rc && tab->name; tab++)
		rc = wfs_dirents_add(out, tab->name, tab->type);
	return rc;
}

int wfs_names_lookup(int rc, struct wfs_names *names, const char *name)
{
	if (!rc && wfs_names_find(names, name) < 0)
		rc = -ENOENT;
	wfs_obj_unref(names ? &names->obj : NULL);
	return rc;
}

int wfs_names_list(int rc, struct wfs_names *names,
		   const struct wfs_node_type *type, struct wfs_dirents *out)
{
	for (size_t i = 0; !rc && i < names->n; i++)
		rc = wfs_dirents_add(out, names->v[i], type);
	wfs_obj_unref(names ? &names->obj : NULL);
	return rc;
}

int wfs_stat_mount_time(struct wfs *fs, struct wfs_stat *st)
{
	st->mtime = fs->mount_time;
	st->ttl = wfs_cache_ttl(fs->cache, WFS_CLASS_LISTING);
	return 0;
}

/* ---- the table ----------------------------------------------------------- */

struct wfs_nodes *wfs_nodes_new(const struct wfs_node_type *root_type)
{
	struct wfs_nodes *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	t->root.type = root_type;
	t->root.name = strdup("");
	if (!t->root.name) {
		free(t);
		return NULL;
	}
	t->root.ino = 1;     /* FUSE_ROOT_ID */
	t->root.nlookup = 1; /* never forgotten */
	wb_strmap_init(&t->root.children);
	t->next_generation = 1;
	return t;
}

struct wfs_node *wfs_nodes_root(struct wfs_nodes *t)
{
	return &t->root;
}

size_t wfs_nodes_count(struct wfs_nodes *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->count;
	pthread_mutex_unlock(&t->mu);
	return n;
}

/* Free a node that has no children left, with its reader. The reader only
 * cancels its prefetch and drops references: it never calls back into the
 * node table, so this may run under its lock. */
static void node_dispose(struct wfs_node *node)
{
	void *stream = atomic_load(&node->stream);

	if (stream)
		node->type->release(stream);
	wb_strmap_clear(&node->children);
	free(node->name);
	free(node);
}

/* Free node if nothing holds it any more, then its parent in turn.
 * Called with t->mu held. */
static void maybe_free(struct wfs_nodes *t, struct wfs_node *node)
{
	while (node && node != &t->root && !node->nlookup && !node->refs) {
		struct wfs_node *parent = node->parent;

		wb_strmap_del(&parent->children, node->name);
		node_dispose(node);
		t->count--;
		parent->refs--;
		node = parent;
	}
}

/* Stable inode number: FNV-1a over the path, never 0 or the root's 1. */
uint64_t wfs_node_child_ino(const struct wfs_node *parent, const char *name)
{
	uint64_t h = parent->ino == 1 ? WB_HASH_SEED : parent->ino;

	h = wb_hash_str(wb_hash_str(h, "/"), name);
	return h > 1 ? h : h + 2;
}

int wfs_node_child(struct wfs_nodes *t, struct wfs_node *dir, const char *name,
		   const struct wfs_node_type *type, struct wfs_node **out)
{
	struct wfs_node *node;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	node = wb_strmap_get(&dir->children, name);
	if (node) {
		node->nlookup++;
		goto done;
	}
	if (t->count >= WFS_NODES_MAX) {
		if (!t->full_logged)
			wb_log(WB_LOG_WARN,
			       "node table full (%u nodes): "
			       "lookups fail with ENFILE until the kernel "
			       "forgets some",
			       WFS_NODES_MAX);
		t->full_logged = 1;
		rc = -ENFILE;
		goto done;
	}
	node = calloc(1, sizeof(*node));
	if (node)
		node->name = strdup(name);
	if (!node || !node->name ||
	    wb_strmap_put(&dir->children, node->name, node, NULL)) {
		if (node)
			free(node->name);
		free(node);
		node = NULL;
		rc = -ENOMEM;
		goto done;
	}
	node->type = type;
	node->parent = dir;
	node->ino = wfs_node_child_ino(dir, name);
	node->generation = t->next_generation++;
	node->nlookup = 1;
	wb_strmap_init(&node->children);
	dir->refs++;
	t->count++;
done:
	pthread_mutex_unlock(&t->mu);
	*out = node;
	return rc;
}

void wfs_node_forget(struct wfs_nodes *t, struct wfs_node *node, uint64_t n)
{
	pthread_mutex_lock(&t->mu);
	if (node != &t->root) {
		node->nlookup = node->nlookup > n ? node->nlookup - n : 0;
		maybe_free(t, node);
	}
	pthread_mutex_unlock(&t->mu);
}

/* Free every node below dir (unmount: the kernel sends no more forgets). */
static void free_subtree(struct wfs_node *dir)
{
	struct wfs_node *child;
	size_t pos = 0;

	while ((child = wb_strmap_next(&dir->children, &pos))) {
		free_subtree(child);
		node_dispose(child);
	}
	wb_strmap_clear(&dir->children);
}

void wfs_nodes_free(struct wfs_nodes *t)
{
	if (!t)
		return;
	free_subtree(&t->root);
	free(t->root.name);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

const struct wfs_node *wfs_node_up(const struct wfs_node *node, int up)
{
	while (up-- > 0 && node->parent)
		node = node->parent;
	return node;
}

/* ---- attributes ------------------------------------------------------------ */

/* A symlink's attributes: its times and lifetime, and its target's length
 * as its size. */
static int link_stat(struct wfs *fs, struct wfs_node *link, struct wfs_stat *st)
{
	char *target = NULL;
	int rc = link->type->readlink(fs, link, &target, st);

	if (!rc)
		st->size = (int64_t)strlen(target);
	free(target);
	return rc;
}

int wfs_node_attr(struct wfs *fs, struct wfs_node *node, struct stat *st,
		  double *timeout)
{
	int rc;

	memset(st, 0, sizeof(*st));
	st->st_ino = node->ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	if (!node->type->content) {
		struct wfs_stat ds = { 0 };
		mode_t kind = wfs_type_mode(node->type);

		rc = kind == S_IFLNK ? link_stat(fs, node, &ds)
				     : node->type->stat(fs, node, &ds);
		if (rc)
			return rc;
		st->st_mode = kind |
			(kind == S_IFDIR           ? 0555
				 : kind == S_IFLNK ? 0777
						   : 0444);
		st->st_nlink = kind == S_IFDIR ? 2 : 1;
		if (kind != S_IFDIR) {
			st->st_size = (off_t)ds.size;
			st->st_blocks = (blkcnt_t)((ds.size + 511) / 512);
		}
		st->st_mtime = ds.mtime;
		st->st_ctime = ds.ctime ? ds.ctime : ds.mtime;
		*timeout = ds.ttl;
	} else {
		struct wfs_blob *blob;

		rc = node->type->content(fs, node, &blob, timeout);
		if (rc)
			return rc;
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)blob->len;
		st->st_blocks = (blkcnt_t)((blob->len + 511) / 512);
		st->st_mtim.tv_sec = blob->mtime;
		/* Bytes that change while their server time does not (an edit
		 * without a heartbeat) still change the mtime the kernel
		 * compares, so it drops the old pages. */
		st->st_mtim.tv_nsec = (long)(blob->version % 1000000000u);
		st->st_ctime = blob->mtime;
		wfs_obj_unref(&blob->obj);
	}
	st->st_atim = st->st_mtim;
	return 0;
}

int wfs_node_stream(struct wfs *fs, struct wfs_node *node, void **fh)
{
	void *s = atomic_load(&node->stream), *none = NULL;
	int rc;

	if (!s) {
		rc = node->type->open(fs, node, &s);
		if (rc)
			return rc;
		/* Two first reads may race: the first reader published wins. */
		if (!atomic_compare_exchange_strong(&node->stream, &none, s)) {
			node->type->release(s);
			s = none;
		}
	}
	*fh = s;
	return 0;
}

int wfs_node_xattrs(struct wfs *fs, struct wfs_node *node,
		    struct wfs_xattrs *out)
{
	return node->type->xattrs ? node->type->xattrs(fs, node, out) : 0;
}
