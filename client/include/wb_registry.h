/* wb_registry.h — organizations and their registries.
 *
 * A registry is the project "wandb-registry-<name>" of an organization's
 * org entity; its collections are portfolios whose versions are
 * memberships (links to versions of ordinary sequences) with their own
 * version index and aliases. Conventions as in wb_api.h.
 */
#ifndef WB_REGISTRY_H
#define WB_REGISTRY_H

#include <stddef.h>
#include "wb_artifacts.h"
#include "wb_client.h"

#define WB_REGISTRY_PREFIX "wandb-registry-"

struct wb_org {
	char *name;       /* display name (organization(name:), web URLs);
			      NULL when the server cannot say */
	char *org_entity; /* the entity owning the registry projects; NULL
			      when the server cannot say */
};

typedef int (*wb_org_cb)(void *ud, struct wb_org *o);

/* Organizations of an entity: a team's organization, or a user's
 * organizations (FetchOrgInfoFromEntity). On servers without orgEntity the
 * org entities are NULL. -ENOENT when the entity is null. */
int wb_orgs_of_entity(struct wb_client *c, const char *entity, wb_org_cb cb,
		      void *ud, struct wb_error *err);

/* Resolve what a user typed (display name or org entity name) to both. */
int wb_org_resolve(struct wb_client *c, const char *org, struct wb_org **out,
		   struct wb_error *err);
void wb_org_free(struct wb_org *o);

struct wb_registry {
	char *name;    /* without the prefix, e.g. "models" */
	char *project; /* "wandb-registry-models" */
	char *org_entity;
	char *id;
	char *description; /* or NULL */
	char *access;      /* or NULL */
	char *created_at;
	char *updated_at; /* or NULL */
};

typedef int (*wb_registry_cb)(void *ud, struct wb_registry *r);

/* Registries of a resolved organization (the org entity's projects named
 * wandb-registry-<name>), every page. */
int wb_registries_list(struct wb_client *c, const struct wb_org *org,
		       wb_registry_cb cb, void *ud, struct wb_error *err);
void wb_registry_free(struct wb_registry *r);

/* Collections of a registry (name with or without the prefix). */
int wb_registry_collections_list(struct wb_client *c, const struct wb_org *org,
				 const char *registry, int per_page,
				 wb_artifact_collection_cb cb, void *ud,
				 struct wb_error *err);

/* Linked versions of a registry collection: each membership's own version
 * and aliases; entity/project/collection of each item are the registry's,
 * source_* the linked sequence's. */
int wb_registry_versions_list(struct wb_client *c, const struct wb_org *org,
			      const char *registry, const char *collection,
			      int per_page, wb_artifact_cb cb, void *ud,
			      struct wb_error *err);

#endif
