/* wfs_art_tree.h — an artifact manifest seen as a directory tree.
 *
 * A manifest's entries are sorted by path (strcmp), so the entries below
 * any directory "d/" form one contiguous range: lookups and listings are
 * binary searches over the manifest itself, with no tree built in memory.
 *
 * What a version directory may show is decided once, when its manifest is
 * fetched (wfs_art_tree_check): a manifest that cannot be shown exactly as
 * a tree is refused whole (the version reads as EIO, logged once), never
 * shown in part. wb_manifest_parse already refuses unsafe paths ("..",
 * absolute, drive or UNC anchors, empty components, NUL and control bytes)
 * and paths listed twice; the check adds components longer than NAME_MAX
 * and a path that is both a file and a directory ("a" and "a/b").
 */
#ifndef WFS_ART_TREE_H
#define WFS_ART_TREE_H

#include <stddef.h>

#include "wb_artifacts.h"

/* 0, or -EIO with *bad = the offending path (borrowed from m) and *why a
 * phrase saying what is wrong with it. */
int wfs_art_tree_check(const struct wb_manifest *m, const char **bad,
		       const char **why);

/* Bytes a parsed manifest holds (its cache charge). */
size_t wfs_art_manifest_bytes(const struct wb_manifest *m);

/* A manifest entry path as it is reached in the tree: the directory ("" =
 * the version directory) and a name in it. */
enum wfs_art_kind {
	WFS_ART_ABSENT,
	WFS_ART_FILE,
	WFS_ART_DIR
};

/* What `name` is in directory dir; *entry receives a file's entry. */
enum wfs_art_kind wfs_art_tree_lookup(const struct wb_manifest *m,
				      const char *dir, const char *name,
				      const struct wb_manifest_entry **entry);

/* cb(ud, name, entry) for each child of dir in manifest order: entry is
 * the file's, or NULL for a subdirectory. name is borrowed for the call.
 * Stops at (and returns) the first non-zero cb result; -ENOMEM. */
int wfs_art_tree_list(const struct wb_manifest *m, const char *dir,
		      int (*cb)(void *ud, const char *name,
				const struct wb_manifest_entry *e),
		      void *ud);

/* Up to max files that follow e in its directory, in listing order (the
 * ones a reader going through the directory opens next). */
size_t wfs_art_tree_next(const struct wb_manifest *m,
			 const struct wb_manifest_entry *e,
			 const struct wb_manifest_entry **out, size_t max);

#endif
