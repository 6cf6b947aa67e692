/* art_tree.c — a manifest as a directory tree (wfs_art_tree.h): binary
 * searches over the sorted entries, the tree check of a fetched manifest,
 * and its memory charge.
 *
 * One trick does the skipping: every path below directory "d/x/" sorts
 * before "d/x0" ('0' follows '/'), so the first entry at or after "d/x0"
 * is the first one past that subdirectory.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "wfs_art_tree.h"

/* Allocation overhead assumed per malloc'd string of an entry. */
#define MALLOC_OVERHEAD 16

/* First index in [lo, n) whose path is >= key. */
static size_t lower_bound(const struct wb_manifest *m, size_t lo,
			  const char *key)
{
	size_t hi = m->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->entries[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int has_prefix(const char *s, const char *prefix, size_t len)
{
	return strncmp(s, prefix, len) == 0;
}

/* a + sep + b + tail into a new string (sep, tail: "" or one char). */
static char *join(const char *a, size_t alen, const char *sep, const char *b,
		  size_t blen, const char *tail)
{
	size_t slen = strlen(sep), tlen = strlen(tail);
	char *s = malloc(alen + slen + blen + tlen + 1);

	if (!s)
		return NULL;
	memcpy(s, a, alen);
	memcpy(s + alen, sep, slen);
	memcpy(s + alen + slen, b, blen);
	memcpy(s + alen + slen + blen, tail, tlen + 1);
	return s;
}

/* The index past every entry below directory prefix + name (prefix ends
 * in '/' or is empty), searching from lo. -1 on OOM. */
static long skip_dir(const struct wb_manifest *m, size_t lo, const char *prefix,
		     size_t plen, const char *name, size_t nlen)
{
	char *key = join(prefix, plen, "", name, nlen, "0");
	size_t at;

	if (!key)
		return -1;
	at = lower_bound(m, lo, key);
	free(key);
	return (long)at;
}

int wfs_art_tree_check(const struct wb_manifest *m, const char **bad,
		       const char **why)
{
	for (size_t i = 0; i < m->n_entries; i++) {
		const char *p = m->entries[i].path, *c = p, *slash;
		size_t len = strlen(p);
		char *key;
		size_t at;

		for (; (slash = strchr(c, '/')); c = slash + 1)
			if ((size_t)(slash - c) > NAME_MAX)
				break;
		if (slash || strlen(c) > NAME_MAX) {
			*bad = p;
			*why = "has a name longer than 255 bytes";
			return -EIO;
		}
		key = join(p, len, "/", "", 0, "");
		if (!key)
			return -ENOMEM;
		at = lower_bound(m, i + 1, key);
		if (at < m->n_entries &&
		    has_prefix(m->entries[at].path, key, len + 1)) {
			free(key);
			*bad = p;
			*why = "is both a file and a directory";
			return -EIO;
		}
		free(key);
	}
	return 0;
}

static size_t str_cost(const char *s)
{
	return s ? strlen(s) + 1 + MALLOC_OVERHEAD : 0;
}

size_t wfs_art_manifest_bytes(const struct wb_manifest *m)
{
	size_t bytes =
		sizeof(*m) + str_cost(m->storage_policy) + str_cost(m->region);

	for (size_t i = 0; i < m->n_entries; i++) {
		const struct wb_manifest_entry *e = &m->entries[i];

		bytes += sizeof(*e) + str_cost(e->path) + str_cost(e->digest) +
			str_cost(e->birth_artifact_id) + str_cost(e->ref) +
			str_cost(e->extra);
	}
	return bytes;
}

enum wfs_art_kind wfs_art_tree_lookup(const struct wb_manifest *m,
				      const char *dir, const char *name,
				      const struct wb_manifest_entry **entry)
{
	size_t dlen = strlen(dir), nlen = strlen(name), at;
	char *path = join(dir, dlen, dlen ? "/" : "", name, nlen, "/");
	enum wfs_art_kind kind = WFS_ART_ABSENT;

	*entry = NULL;
	if (!path)
		return WFS_ART_ABSENT;
	at = lower_bound(m, 0, path);
	if (at < m->n_entries &&
	    has_prefix(m->entries[at].path, path, strlen(path))) {
		kind = WFS_ART_DIR;
	} else {
		path[strlen(path) - 1] = '\0';
		*entry = wb_manifest_find(m, path);
		if (*entry)
			kind = WFS_ART_FILE;
	}
	free(path);
	return kind;
}

int wfs_art_tree_list(const struct wb_manifest *m, const char *dir,
		      int (*cb)(void *ud, const char *name,
				const struct wb_manifest_entry *e),
		      void *ud)
{
	size_t dlen = strlen(dir);
	char *prefix = join(dir, dlen, dlen ? "/" : "", "", 0, "");
	size_t plen = dlen ? dlen + 1 : 0, i;
	int rc = 0;

	if (!prefix)
		return -ENOMEM;
	i = lower_bound(m, 0, prefix);
	while (!rc && i < m->n_entries &&
	       has_prefix(m->entries[i].path, prefix, plen)) {
		const char *rest = m->entries[i].path + plen;
		const char *slash = strchr(rest, '/');
		char *name;
		long next;

		if (!slash) {
			rc = cb(ud, rest, &m->entries[i++]);
			continue;
		}
		name = strndup(rest, (size_t)(slash - rest));
		next = skip_dir(m, i, prefix, plen, rest,
				(size_t)(slash - rest));
		if (!name || next < 0) {
			free(name);
			rc = -ENOMEM;
			break;
		}
		rc = cb(ud, name, NULL);
		free(name);
		i = (size_t)next;
	}
	free(prefix);
	return rc;
}

size_t wfs_art_tree_next(const struct wb_manifest *m,
			 const struct wb_manifest_entry *e,
			 const struct wb_manifest_entry **out, size_t max)
{
	const char *last = strrchr(e->path, '/');
	size_t plen = last ? (size_t)(last - e->path) + 1 : 0, n = 0;
	size_t i = (size_t)(e - m->entries) + 1;

	while (n < max && i < m->n_entries &&
	       has_prefix(m->entries[i].path, e->path, plen)) {
		const char *rest = m->entries[i].path + plen;
		const char *slash = strchr(rest, '/');
		long next;

		if (!slash) {
			out[n++] = &m->entries[i++];
			continue;
		}
		next = skip_dir(m, i, e->path, plen, rest,
				(size_t)(slash - rest));
		if (next < 0)
			break;
		i = (size_t)next;
	}
	return n;
}
