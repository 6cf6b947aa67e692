/* node_root.c — the mount's root: one directory per entity, listing the
 * viewer's own entity and teams; any other entity name is looked up on
 * access (and cached as absent when the server has no such entity). And
 * registry/, the registries of the viewer's organization, when there is
 * one: the short name the W&B app uses, which then hides an entity named
 * "registry" from this mount. */
#include <errno.h>
#include <string.h>

#include "wfs_artifacts.h"

#include "wfs_fetch.h"
#include "wfs_node.h"

static int root_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
		       const struct wfs_node_type **type)
{
	int rc;

	(void)dir;
	/* W&B entity names never start with '.', and hidden names are what
	 * shells and desktops probe (.git, .Trash, .hidden): no request. */
	if (name[0] == '.')
		return -ENOENT;
	if (strcmp(name, "registry") == 0) {
		struct wfs_art_org *org;

		rc = wfs_fetch_art_org(fs, &org);
		if (rc != -ENOENT) {
			wfs_obj_unref(rc ? NULL : &org->obj);
			*type = &wfs_type_registries;
			return rc;
		}
	}
	rc = wfs_fetch_entity(fs->fetch, name);
	if (rc)
		return rc;
	*type = &wfs_type_entity;
	return 0;
}

static int root_list(struct wfs *fs, struct wfs_node *dir,
		     struct wfs_dirents *out)
{
	struct wfs_art_org *org = NULL;
	struct wfs_names *names;
	int rc;

	(void)dir;
	/* registry/ when there is an organization to show; failing to
	 * find out (logged) leaves it out rather than failing the root. */
	if (wfs_fetch_art_org(fs, &org))
		org = NULL;
	rc = wfs_fetch_viewer(fs->fetch, &names);
	for (size_t i = 0; !rc && i < names->n; i++)
		if (!org || strcmp(names->v[i], "registry"))
			rc = wfs_dirents_add(out, names->v[i],
					     &wfs_type_entity);
	if (names)
		wfs_obj_unref(&names->obj);
	if (!rc && org)
		rc = wfs_dirents_add(out, "registry", &wfs_type_registries);
	wfs_obj_unref(org ? &org->obj : NULL);
	return rc;
}

static int root_stat(struct wfs *fs, struct wfs_node *dir, struct wfs_stat *st)
{
	(void)dir;
	return wfs_stat_mount_time(fs, st);
}

const struct wfs_node_type wfs_type_root = {
	.name = "root",
	.is_dir = 1,
	.lookup = root_lookup,
	.list = root_list,
	.stat = root_stat,
};
