/* wb_artifacts.h — artifact types, collections, versions, manifests and the
 * bytes of artifact entries (doc/api-notes.md, "Artifacts" to
 * "References").
 *
 * Conventions as in wb_api.h: 0 or a negative errno (err filled); a null
 * project / type / collection / version is -ENOENT; listing callbacks
 * receive ownership of each item; a non-zero callback result stops the
 * listing and is returned. Pure functions (manifest parsing, URL building)
 * need no client and touch no network.
 */
#ifndef WB_ARTIFACTS_H
#define WB_ARTIFACTS_H

#include <stddef.h>
#include <stdint.h>
#include "wb_client.h"
#include "wb_download.h"

/* ---- types ------------------------------------------------------------ */

struct wb_artifact_type {
	char *id;
	char *name;
	char *description; /* or NULL */
	char *created_at;
};

typedef int (*wb_artifact_type_cb)(void *ud, struct wb_artifact_type *t);

/* All artifact types of a project, every page (per_page 0 = 50). */
int wb_artifact_types_list(struct wb_client *c, const char *entity,
			   const char *project, int per_page,
			   wb_artifact_type_cb cb, void *ud,
			   struct wb_error *err);
void wb_artifact_type_free(struct wb_artifact_type *t);

/* ---- collections ------------------------------------------------------ */

struct wb_artifact_collection {
	char *id;
	char *name;
	char *type;   /* defaultArtifactType.name, or NULL */
	char *entity; /* the owning project's entity and name */
	char *project;
	char *description; /* or NULL */
	char *created_at;
	char *updated_at; /* or NULL */
	int is_portfolio; /* 1 = ArtifactPortfolio (links), 0 = sequence */
};

typedef int (*wb_artifact_collection_cb)(void *ud,
					 struct wb_artifact_collection *col);

/* Collections of one type (type != NULL) or of every type in the project
 * (type == NULL), every page (per_page 0 = 50). */
int wb_artifact_collections_list(struct wb_client *c, const char *entity,
				 const char *project, const char *type,
				 int per_page, wb_artifact_collection_cb cb,
				 void *ud, struct wb_error *err);
void wb_artifact_collection_free(struct wb_artifact_collection *col);

/* ---- versions --------------------------------------------------------- */

/* One artifact version as addressed through one collection (a sequence, or
 * a portfolio / registry collection linking it). */
struct wb_artifact {
	char *id;     /* base64 global id */
	char *entity; /* as addressed (canonical names from the server) */
	char *project;
	char *collection;
	char *version;  /* "vN": the index in *this* collection */
	char **aliases; /* aliases in this collection, without "vN" ones */
	size_t n_aliases;
	char *type;
	char *source_entity; /* the sequence that logged it */
	char *source_project;
	char *source_collection;
	int64_t source_version; /* versionIndex in the sequence, -1 unknown */
	int is_link;            /* addressed through a portfolio */
	char *state;            /* PENDING, COMMITTED, DELETED */
	char *digest;           /* manifest digest */
	int64_t size;           /* bytes incl. references, -1 unknown */
	int64_t file_count;     /* -1 unknown */
	char *description;      /* or NULL */
	char *metadata;         /* JSON text, "{}" when null */
	char *created_at;
	char *updated_at;       /* or NULL */
	char *producer_entity;  /* the run that logged it (createdBy); all */
	char *producer_project; /* three NULL when a user logged it outside */
	char *producer_run;     /* a run */
};

typedef int (*wb_artifact_cb)(void *ud, struct wb_artifact *a);

/* Every version of a collection with its aliases in that collection, every
 * page (per_page 0 = 50). */
int wb_artifact_versions_list(struct wb_client *c, const char *entity,
			      const char *project, const char *collection,
			      int per_page, wb_artifact_cb cb, void *ud,
			      struct wb_error *err);

/* The same through the collection's memberships: for portfolios (registry
 * collections, linked versions) each membership's own versionIndex and
 * aliases; works for sequences too. */
int wb_artifact_memberships_list(struct wb_client *c, const char *entity,
				 const char *project, const char *collection,
				 int per_page, wb_artifact_cb cb, void *ud,
				 struct wb_error *err);

/* One version by "collection:alias" or "collection:vN" (a bare name means
 * ":latest"). Uses artifactCollectionMembership; on a server that rejects
 * it, the base-schema route through the collection's membership. */
int wb_artifact_get(struct wb_client *c, const char *entity,
		    const char *project, const char *name_alias,
		    struct wb_artifact **out, struct wb_error *err);

/* The versions a run logged (WB_RUN_LOGGED: outputArtifacts) or used
 * (WB_RUN_USED: inputArtifacts), each addressed through its source
 * sequence, every page (per_page 0 = 100). -ENOENT for a null project or
 * run. */
enum wb_run_artifacts {
	WB_RUN_LOGGED,
	WB_RUN_USED
};
int wb_run_artifacts_list(struct wb_client *c, const char *entity,
			  const char *project, const char *run,
			  enum wb_run_artifacts which, int per_page,
			  wb_artifact_cb cb, void *ud, struct wb_error *err);

/* The web page of version a (malloc'd; NULL on OOM):
 *   {app}/{entity}/{project}/artifacts/{type}/{collection}/{version}
 * and for a version addressed through a registry (project
 * "wandb-registry-<name>") of organization `org` (display name, or NULL
 * when unknown: then the plain form):
 *   {app}/orgs/{org}/registry/{name}?selectionPath={entity/project/
 *   collection}&view=membership&version={version}
 * every segment and the selection path percent-encoded. */
char *wb_artifact_web_url(const struct wb_client *c,
			  const struct wb_artifact *a, const char *org);

/* A version by its global id, addressed through its source sequence. */
int wb_artifact_get_by_id(struct wb_client *c, const char *id,
			  struct wb_artifact **out, struct wb_error *err);
void wb_artifact_free(struct wb_artifact *a);

/* ---- manifest --------------------------------------------------------- */

enum wb_storage_layout {
	WB_LAYOUT_V1 = 1,
	WB_LAYOUT_V2 = 2
};

struct wb_manifest_entry {
	char *path;              /* validated relative path */
	char *digest;            /* base64 MD5 for stored entries */
	int64_t size;            /* -1 when absent */
	char *birth_artifact_id; /* or NULL */
	char *ref;               /* reference URI, NULL for stored entries */
	char *extra;             /* JSON text of "extra", "{}" when absent */
};

struct wb_manifest {
	int version;                   /* manifest format version (1) */
	char *storage_policy;          /* e.g. "wandb-storage-policy-v1" */
	enum wb_storage_layout layout; /* storageLayout, V1 when absent */
	char *region; /* storageRegion, "default" when absent */
	struct wb_manifest_entry *entries; /* sorted by path (strcmp) */
	size_t n_entries;
};

/* Parse manifest JSON (format version 1). Malformed JSON or fields of the
 * wrong type -> -EBADMSG; a manifest format version other than 1 or an
 * unknown storage layout -> -EOPNOTSUPP; a hostile entry path (see
 * wb_manifest_path_check) or a path listed twice -> -EINVAL. */
int wb_manifest_parse(const char *text, size_t len, struct wb_manifest **out,
		      struct wb_error *err);
void wb_manifest_free(struct wb_manifest *m);

/* 0 when path is a safe relative path, else -EINVAL: empty, ".", absolute
 * ("/x", "\x"), a drive ("C:x") or UNC ("\\srv") anchor, any "." or ".." or
 * empty component (split on '/' and '\'), NUL or control bytes. */
int wb_manifest_path_check(const char *path);

/* The entry for path, or NULL (binary search). */
const struct wb_manifest_entry *wb_manifest_find(const struct wb_manifest *m,
						 const char *path);

/* Fetch (FetchArtifactManifest -> directUrl -> GET without auth) and parse
 * the manifest of artifact id. */
int wb_manifest_fetch(struct wb_client *c, const char *artifact_id,
		      struct wb_manifest **out, struct wb_error *err);

/* ---- storage URLs (pure) ---------------------------------------------- */

/* Hex of a base64 MD5 digest (16 bytes): hex receives 32 chars + NUL.
 * 0 or -EINVAL. */
int wb_md5_b64_to_hex(const char *b64, char hex[33]);

/* The server URL for a stored entry, built from the manifest, fetched with W&B
 * auth (the transport adds it: the URL is on the API host):
 *   V1: {base}/artifacts/{entity}/{hexhash}
 *   V2: {base}/artifactsV2/{region}/{entity}/{project}/{collection}/
 *       {birthArtifactID}/{hexhash}/{basename}
 * every segment percent-encoded (RFC 3986 unreserved kept), a missing
 * birthArtifactID an empty segment, basename = last component of the path.
 * entity/project/collection are the artifact as addressed. Returns a
 * malloc'd URL in *out; -EINVAL for a reference entry or a digest that is
 * not a base64 MD5, -ENOMEM. */
int wb_artifact_storage_url(const char *base_url, enum wb_storage_layout layout,
			    const char *region, const char *entity,
			    const char *project, const char *collection,
			    const struct wb_manifest_entry *e, char **out);

/* ---- file URLs and bytes ---------------------------------------------- */

typedef int (*wb_file_url_cb)(void *ud, const char *path, const char *url);

/* Download URLs of every stored file of the version, in batches
 * (per_page 0 = 5000): the membership route, else artifact(id).files.
 * Strings are borrowed for the duration of the callback. */
int wb_artifact_file_urls(struct wb_client *c, const struct wb_artifact *a,
			  int per_page, wb_file_url_cb cb, void *ud,
			  struct wb_error *err);

/* Download URLs of the named files of the version (n <= 5000 paths), in
 * one batch: the route of wb_artifact_file_urls filtered by name. Names
 * the server does not know are left out; servers may also answer names
 * that only resemble one asked for (callers match paths exactly). */
int wb_artifact_file_urls_of(struct wb_client *c, const struct wb_artifact *a,
			     const char *const *paths, size_t n,
			     wb_file_url_cb cb, void *ud, struct wb_error *err);

/* A fresh download URL for one path (malloc'd into *url). When the server
 * has no file-URL route, the constructed storage URL (needs the manifest
 * m; may be NULL otherwise). -ENOENT when the version has no such file. */
int wb_artifact_file_url(struct wb_client *c, const struct wb_artifact *a,
			 const struct wb_manifest *m, const char *path,
			 char **url, struct wb_error *err);

/* The target of a "wandb-artifact://<hex id>/<path>" reference entry: the
 * target version, its manifest and the entry in it (borrowed from *tm).
 * -EOPNOTSUPP for other reference schemes, -EINVAL for a malformed ref,
 * -ENOENT when the target has no such entry. */
int wb_artifact_resolve_ref(struct wb_client *c,
			    const struct wb_manifest_entry *e,
			    struct wb_artifact **ta, struct wb_manifest **tm,
			    const struct wb_manifest_entry **te,
			    struct wb_error *err);

/* Bytes [start, end] (inclusive, end -1 = to EOF) of the entry at path in
 * version a (manifest m) to sink. url: a URL from wb_artifact_file_urls,
 * or NULL to fetch one; refreshed once on 401/403. wandb-artifact://
 * references are followed to their target; other references (s3://, gs://,
 * azure, http) -> -EOPNOTSUPP. -ENOENT when m has no such path. */
int wb_artifact_file_stream(struct wb_client *c, const struct wb_artifact *a,
			    const struct wb_manifest *m, const char *path,
			    const char *url, int64_t start, int64_t end,
			    const struct wb_http_sink *sink,
			    struct wb_error *err);

#endif
