/* wfs_node_art.h — what the artifact node types (node_artifacts.c,
 * node_artifact_tree.c, node_registry.c) share: where a directory of
 * collections keeps its versions, and the version (and manifest) a node
 * inside a version directory belongs to.
 */
#ifndef WFS_NODE_ART_H
#define WFS_NODE_ART_H

#include "wfs_artifacts.h"
#include "wfs_node.h"

/* Where the versions of a directory of collections live (a project's
 * artifacts/<type>/ or registry/<registry>/); w is cleared on failure. */
int wfs_art_where_of(struct wfs *fs, const struct wfs_node *dir,
		     struct wfs_art_where *w);

/* The version a version directory or its JSON file names. */
int wfs_art_version_of(struct wfs *fs, const struct wfs_node *node,
		       struct wfs_art_version **out);

/* The version behind a node inside a version directory (the version
 * directory itself included). */
struct wfs_art_at {
	struct wfs_art_version *v;  /* reference */
	struct wfs_art_manifest *m; /* reference, when asked for */
	char *path;                 /* the node's path in the version ("" for
					the version directory), malloc'd */
};

int wfs_art_at(struct wfs *fs, const struct wfs_node *node, int manifest,
	       struct wfs_art_at *at);
void wfs_art_at_clear(struct wfs_art_at *at);

#endif
