/* node_registry.c — <mount>/registry/: one directory per registry of the
 * organization chosen for the mount (--registry-org, else the viewer's
 * first), named as the W&B app shows it, without the wandb-registry-
 * prefix of its project. Each holds its collections' versions and aliases
 * like an artifact type directory does (node_artifacts.c). */
#include <errno.h>

#include "wfs_artifacts.h"
#include "wfs_node.h"

static int registries_lookup(struct wfs *fs, struct wfs_node *dir,
			     const char *name,
			     const struct wfs_node_type **type)
{
	struct wfs_names *names;
	int rc = wfs_fetch_registries(fs, &names);

	(void)dir;
	*type = &wfs_type_registry;
	return wfs_names_lookup(rc, names, name);
}

static int registries_list(struct wfs *fs, struct wfs_node *dir,
			   struct wfs_dirents *out)
{
	struct wfs_names *names;
	int rc = wfs_fetch_registries(fs, &names);

	(void)dir;
	return wfs_names_list(rc, names, &wfs_type_registry, out);
}

static int registries_stat(struct wfs *fs, struct wfs_node *dir,
			   struct wfs_stat *st)
{
	struct wfs_art_org *org;
	int rc = wfs_fetch_art_org(fs, &org);

	(void)dir;
	if (rc)
		return rc;
	wfs_obj_unref(&org->obj);
	return wfs_stat_mount_time(fs, st);
}

const struct wfs_node_type wfs_type_registries = {
	.name = "registry/",
	.is_dir = 1,
	.lookup = registries_lookup,
	.list = registries_list,
	.stat = registries_stat,
};
