/* cmd_data.c — wandbfs-query commands for run files, history, events,
 * console logs, artifacts and manifests, registries, sweeps and reports.
 * Listings print one JSON array; history, events and logs print JSONL;
 * downloads write raw bytes to stdout or -o FILE. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wb_artifacts.h"
#include "wb_history.h"
#include "wb_registry.h"
#include "wb_runfiles.h"
#include "wb_sweeps.h"

/* ---- listings --------------------------------------------------------- */

/* Add an item of a listing to the array (the callbacks' ud) that is
 * printed at the end. */
static int collect_add(cJSON *arr, cJSON *item, int rc)
{
	if (!item)
		return rc ? rc : -ENOMEM;
	if (!cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

/* ---- argument helpers ------------------------------------------------- */

/* "A-B" (inclusive) or "A-" (to the end). */
static int parse_range(const char *s, int64_t *start, int64_t *end)
{
	const char *dash = strchr(s, '-');
	long long a, b;
	char head[32];

	if (!dash || (size_t)(dash - s) >= sizeof(head))
		return -EINVAL;
	memcpy(head, s, (size_t)(dash - s));
	head[dash - s] = '\0';
	if (wb_cli_parse_int(head, 0, INT64_MAX, &a))
		return -EINVAL;
	*start = a;
	*end = -1;
	if (!dash[1])
		return 0;
	if (wb_cli_parse_int(dash + 1, a, INT64_MAX, &b))
		return -EINVAL;
	*end = b;
	return 0;
}

static int parse_per_page(const char *s, int *out)
{
	long long n;

	if (wb_cli_parse_int(s, 1, 1000000, &n))
		return -EINVAL;
	*out = (int)n;
	return 0;
}

/* Commands whose only option is --per-page; positional args after. */
static int per_page_only(int argc, char **argv, int *per_page)
{
	static const struct option opts[] = {
		{ "per-page", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*per_page = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (opt != 'p' || parse_per_page(optarg, per_page))
			return -EINVAL;
	return 0;
}

/* A listing command: [--per-page N] and min_args..max_args positionals,
 * the first split into nparts path parts (when nparts > 0); list() runs the
 * listing into the collected array, which is printed unless it fails. */
struct listing {
	cJSON *arr; /* the item callbacks' ud */
	char *path[3];
	char **args; /* the positionals, args[0] split into path */
	int n_args;
	int per_page;
};

struct listing_spec {
	int nparts, min_args, max_args;
	int (*list)(struct listing *l, struct wb_cli *cli);
};

static int listing_parse(int argc, char **argv, const struct listing_spec *spec,
			 struct listing *l)
{
	if (per_page_only(argc, argv, &l->per_page) ||
	    argc - optind < spec->min_args || argc - optind > spec->max_args ||
	    (spec->nparts &&
	     wb_cli_split_path(argv[optind], l->path, spec->nparts)))
		return -EINVAL;
	l->args = argv + optind;
	l->n_args = argc - optind;
	return 0;
}

static int run_listing(struct wb_cli *cli, int argc, char **argv,
		       const struct listing_spec *spec)
{
	struct listing l = { 0 };

	if (listing_parse(argc, argv, spec, &l))
		return WB_CLI_USAGE;
	if (!(l.arr = cJSON_CreateArray()))
		return wb_cli_result(cli, -ENOMEM, NULL);
	return wb_cli_finish(cli, l.arr, spec->list(&l, cli));
}

/* Options of the byte commands: [--range A-B] [-o FILE] [--url URL]
 * [--via V], V one of the command's NULL-terminated vias. */
struct get_opts {
	int64_t start, end;
	const char *output, *url;
	int via; /* index into vias, or -1 when not given */
};

static int parse_get_opts(int argc, char **argv, const char *const *vias,
			  struct get_opts *g)
{
	static const struct option opts[] = {
		{ "range", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "via", required_argument, NULL, 'V' },
		{ "url", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*g = (struct get_opts){ .end = -1, .via = -1 };
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (opt == 'r' && !parse_range(optarg, &g->start, &g->end))
			continue;
		if (opt == 'o') {
			g->output = optarg;
		} else if (opt == 'u') {
			g->url = optarg;
		} else if (opt == 'V') {
			for (g->via = 0;
			     vias[g->via] && strcmp(optarg, vias[g->via]);
			     g->via++)
				;
			if (!vias[g->via])
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* Raw bytes to stdout or a file (downloads resume, never restart: the
 * sink sees each byte once). */
struct out_file {
	FILE *f;
};

static int out_write(void *ud, const void *data, size_t len)
{
	struct out_file *o = ud;

	return fwrite(data, 1, len, o->f) == len ? 0 : -EIO;
}

static int out_open(struct wb_cli *cli, const char *path, struct out_file *o,
		    struct wb_http_sink *sink)
{
	o->f = path ? fopen(path, "wb") : stdout;
	if (!o->f) {
		wb_error_set(&cli->err, -errno, 0, "cannot create %s: %s", path,
			     strerror(errno));
		return WB_CLI_ERROR;
	}
	sink->write = out_write;
	sink->restart = NULL;
	sink->ud = o;
	return WB_CLI_OK;
}

static int out_close(struct wb_cli *cli, struct out_file *o, int rc)
{
	int bad = o->f == stdout ? fflush(o->f) : fclose(o->f);

	if (!rc && bad) {
		wb_error_set(&cli->err, -EIO, 0, "cannot write output");
		return WB_CLI_ERROR;
	}
	return wb_cli_result(cli, rc, &cli->err);
}

/* ---- run files -------------------------------------------------------- */

static cJSON *run_file_json(const struct wb_run_file *f, int *rc)
{
	struct wb_jb b = wb_jb_new();

	wb_jb_str(&b, "name", f->name);
	wb_jb_int(&b, "sizeBytes", f->size);
	wb_jb_str(&b, "md5", f->md5);
	wb_jb_str(&b, "mimetype", f->mimetype);
	wb_jb_str(&b, "updatedAt", f->updated_at);
	wb_jb_str(&b, "url", f->url);
	wb_jb_str(&b, "directUrl", f->direct_url);
	return wb_jb_done(&b, rc);
}

static int collect_file(void *ud, struct wb_run_file *f)
{
	int rc = 0;
	cJSON *item = run_file_json(f, &rc);

	wb_run_file_free(f);
	return collect_add(ud, item, rc);
}

static int list_files(struct listing *l, struct wb_cli *cli)
{
	return wb_run_files_list(cli->client, l->path[0], l->path[1],
				 l->path[2], l->per_page, collect_file, l->arr,
				 &cli->err);
}

static int cmd_files(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 3, 1, 1, list_files };

	return run_listing(cli, argc, argv, &spec);
}

static int cmd_file_exists(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_run_file *f = NULL;
	char *path[3];
	cJSON *file;
	struct wb_jb b;
	int rc;

	if (argc != 3 || wb_cli_split_path(argv[1], path, 3))
		return WB_CLI_USAGE;
	/* An absent file is "exists": false; an absent run an error. */
	rc = wb_run_file_lookup(cli->client, path[0], path[1], path[2], argv[2],
				&f, &cli->err);
	if (rc)
		return wb_cli_result(cli, rc, &cli->err);
	b = wb_jb_new();
	wb_jb_str(&b, "name", argv[2]);
	wb_jb_bool(&b, "exists", f != NULL);
	rc = 0;
	if (f) {
		file = run_file_json(f, &rc);
		wb_jb_item(&b, "file", file, rc);
	}
	wb_run_file_free(f);
	return wb_cli_finish(cli, wb_jb_done(&b, &rc), rc);
}

static int cmd_download(struct wb_cli *cli, int argc, char **argv)
{
	static const char *const vias[] = { "url", "direct", NULL };
	static const enum wb_run_file_via via_of[] = { WB_VIA_URL,
						       WB_VIA_DIRECT_URL };
	struct wb_run_file_loc loc = { 0 };
	struct wb_http_sink sink;
	struct get_opts g;
	struct out_file o;
	char *path[3];
	int rc;

	if (parse_get_opts(argc, argv, vias, &g) || optind != argc - 2 ||
	    wb_cli_split_path(argv[optind], path, 3))
		return WB_CLI_USAGE;
	if (g.via >= 0)
		loc.via = via_of[g.via];
	loc.url = g.url; /* as if from a listing */
	loc.entity = path[0];
	loc.project = path[1];
	loc.run = path[2];
	loc.name = argv[optind + 1];
	if (out_open(cli, g.output, &o, &sink))
		return WB_CLI_ERROR;
	rc = wb_run_file_stream(cli->client, &loc, g.start, g.end, &sink,
				&cli->err);
	return out_close(cli, &o, rc);
}

/* ---- history, events, logs -------------------------------------------- */

static int print_row(void *ud, const char *json, size_t len)
{
	(void)ud;
	if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF)
		return -EIO;
	return 0;
}

static int rows_done(struct wb_cli *cli, int rc)
{
	if (fflush(stdout) && !rc)
		rc = wb_error_set(&cli->err, -EIO, 0, "cannot write output");
	return wb_cli_result(cli, rc, &cli->err);
}

static int cmd_history(struct wb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "min-step", required_argument, NULL, 'a' },
		{ "max-step", required_argument, NULL, 'b' },
		{ "page", required_argument, NULL, 'p' },
		{ "samples", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct wb_history_scan q = { .max_step = -1 };
	long long n, samples = 0;
	char *path[3];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (!optarg ||
		    wb_cli_parse_int(optarg, opt == 's' || opt == 'p' ? 1 : 0,
				     INT64_MAX, &n))
			return WB_CLI_USAGE;
		if (opt == 'a')
			q.min_step = n;
		else if (opt == 'b')
			q.max_step = n;
		else if (opt == 'p' && n <= 1000000)
			q.page = (int)n;
		else if (opt == 's' && n <= 1000000)
			samples = n;
		else
			return WB_CLI_USAGE;
	}
	if (optind != argc - 1 || wb_cli_split_path(argv[optind], path, 3))
		return WB_CLI_USAGE;
	if (samples)
		rc = wb_history_sampled(cli->client, path[0], path[1], path[2],
					(int)samples, print_row, NULL,
					&cli->err);
	else
		rc = wb_history_scan(cli->client, path[0], path[1], path[2], &q,
				     print_row, NULL, &cli->err);
	return rows_done(cli, rc);
}

static int cmd_events(struct wb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	long long samples = 0;
	char *path[3];
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (opt != 's' ||
		    wb_cli_parse_int(optarg, 1, 1000000, &samples))
			return WB_CLI_USAGE;
	if (optind != argc - 1 || wb_cli_split_path(argv[optind], path, 3))
		return WB_CLI_USAGE;
	return rows_done(cli,
			 wb_events(cli->client, path[0], path[1], path[2],
				   (int)samples, print_row, NULL, &cli->err));
}

static int print_log_line(void *ud, struct wb_log_line *l)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;
	cJSON *item;
	char *text;

	wb_jb_int(&b, "number", l->number);
	wb_jb_str(&b, "timestamp", l->timestamp);
	wb_jb_str(&b, "level", l->level);
	wb_jb_str(&b, "label", l->label);
	wb_jb_str(&b, "line", l->line);
	wb_log_line_free(l);
	item = wb_jb_done(&b, &rc);
	if (!item)
		return rc;
	(void)ud;
	text = wb_json_print(item, WB_JSON_COMPACT, NULL);
	cJSON_Delete(item);
	if (!text)
		return -ENOMEM;
	rc = puts(text) == EOF ? -EIO : 0;
	free(text);
	return rc;
}

static int cmd_logs(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 3, 1, 1, NULL };
	struct listing l = { 0 };
	struct wb_log_result res;
	int rc;

	if (listing_parse(argc, argv, &spec, &l))
		return WB_CLI_USAGE;
	rc = wb_log_lines(cli->client, l.path[0], l.path[1], l.path[2],
			  l.per_page, print_log_line, NULL, &res, &cli->err);
	if (!rc && !res.complete)
		fprintf(stderr,
			"wandbfs-query: logs: only the last lines of "
			"%" PRId64 " (the server cannot page its console log)"
			"\n",
			res.line_count);
	return rows_done(cli, rc);
}

/* ---- artifacts -------------------------------------------------------- */

static int collect_type(void *ud, struct wb_artifact_type *t)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "id", t->id);
	wb_jb_str(&b, "name", t->name);
	wb_jb_str(&b, "description", t->description);
	wb_jb_str(&b, "createdAt", t->created_at);
	wb_artifact_type_free(t);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

static int collect_collection(void *ud, struct wb_artifact_collection *col)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "id", col->id);
	wb_jb_str(&b, "name", col->name);
	wb_jb_str(&b, "type", col->type);
	wb_jb_str(&b, "entity", col->entity);
	wb_jb_str(&b, "project", col->project);
	wb_jb_str(&b, "kind", col->is_portfolio ? "portfolio" : "sequence");
	wb_jb_str(&b, "description", col->description);
	wb_jb_str(&b, "createdAt", col->created_at);
	wb_jb_str(&b, "updatedAt", col->updated_at);
	wb_artifact_collection_free(col);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

static cJSON *artifact_json(const struct wb_artifact *a, int *rc)
{
	struct wb_jb b = wb_jb_new();

	wb_jb_str(&b, "id", a->id);
	wb_jb_str(&b, "entity", a->entity);
	wb_jb_str(&b, "project", a->project);
	wb_jb_str(&b, "collection", a->collection);
	wb_jb_str(&b, "version", a->version);
	wb_jb_strv(&b, "aliases", a->aliases, a->n_aliases);
	wb_jb_str(&b, "type", a->type);
	wb_jb_str(&b, "sourceEntity", a->source_entity);
	wb_jb_str(&b, "sourceProject", a->source_project);
	wb_jb_str(&b, "sourceCollection", a->source_collection);
	wb_jb_int(&b, "sourceVersionIndex", a->source_version);
	wb_jb_bool(&b, "isLink", a->is_link);
	wb_jb_str(&b, "state", a->state);
	wb_jb_str(&b, "digest", a->digest);
	wb_jb_int(&b, "size", a->size);
	wb_jb_int(&b, "fileCount", a->file_count);
	wb_jb_str(&b, "description", a->description);
	wb_jb_json(&b, "metadata", a->metadata);
	wb_jb_str(&b, "createdAt", a->created_at);
	wb_jb_str(&b, "updatedAt", a->updated_at);
	return wb_jb_done(&b, rc);
}

static int collect_artifact(void *ud, struct wb_artifact *a)
{
	int rc = 0;
	cJSON *item = artifact_json(a, &rc);

	wb_artifact_free(a);
	return collect_add(ud, item, rc);
}

static int list_types(struct listing *l, struct wb_cli *cli)
{
	return wb_artifact_types_list(cli->client, l->path[0], l->path[1],
				      l->per_page, collect_type, l->arr,
				      &cli->err);
}

static int cmd_artifact_types(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 2, 1, 1, list_types };

	return run_listing(cli, argc, argv, &spec);
}

/* ENT/PROJ [TYPE] */
static int list_collections(struct listing *l, struct wb_cli *cli)
{
	return wb_artifact_collections_list(cli->client, l->path[0], l->path[1],
					    l->n_args == 2 ? l->args[1] : NULL,
					    l->per_page, collect_collection,
					    l->arr, &cli->err);
}

static int cmd_collections(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 2, 1, 2, list_collections };

	return run_listing(cli, argc, argv, &spec);
}

static int cmd_versions(struct wb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "per-page", required_argument, NULL, 'p' },
		{ "memberships", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	cJSON *arr;
	int opt, per_page = 0, memberships = 0;
	const char *type = NULL, *name;
	char *path[2];
	int rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'm')
			memberships = 1;
		else if (opt != 'p' || parse_per_page(optarg, &per_page))
			return WB_CLI_USAGE;
	}
	if (optind < argc - 3 || optind > argc - 2 ||
	    wb_cli_split_path(argv[optind], path, 2))
		return WB_CLI_USAGE;
	if (optind == argc - 3)
		type = argv[optind + 1];
	name = argv[argc - 1];
	if (!(arr = cJSON_CreateArray()))
		return wb_cli_result(cli, -ENOMEM, NULL);
	rc = (memberships ? wb_artifact_memberships_list
			  : wb_artifact_versions_list)(cli->client, path[0],
						       path[1], name, per_page,
						       collect_artifact, arr,
						       &cli->err);
	/* A collection has one type: TYPE, when given, must be it. */
	if (!rc && type) {
		const cJSON *first = cJSON_GetArrayItem(arr, 0);
		const char *t = wb_json_get_str(first, "type");

		if (first && (!t || strcmp(t, type)))
			rc = wb_error_set(&cli->err, -ENOENT, 0,
					  "%s/%s/%s is "
					  "of type %s, not %s",
					  path[0], path[1], name, t ? t : "?",
					  type);
	}
	return wb_cli_finish(cli, arr, rc);
}

/* Resolve ENT/PROJ/NAME:ALIAS (or --id) to a version. */
static int get_artifact(struct wb_cli *cli, char *arg, const char *id,
			struct wb_artifact **a)
{
	char *parts[3];

	if (id)
		return wb_artifact_get_by_id(cli->client, id, a, &cli->err);
	/* "ENT/PROJ/NAME:ALIAS": the alias stays with the name. */
	if (!arg || wb_cli_split_path(arg, parts, 3))
		return -EINVAL;
	return wb_artifact_get(cli->client, parts[0], parts[1], parts[2], a,
			       &cli->err);
}

static int cmd_artifact(struct wb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct wb_artifact *a = NULL;
	const char *id = NULL;
	cJSON *item;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'i')
			return WB_CLI_USAGE;
		id = optarg;
	}
	if (optind != argc - (id ? 0 : 1))
		return WB_CLI_USAGE;
	rc = get_artifact(cli, id ? NULL : argv[optind], id, &a);
	if (rc == -EINVAL && !cli->err.code)
		return WB_CLI_USAGE;
	if (rc)
		return wb_cli_result(cli, rc, &cli->err);
	item = artifact_json(a, &rc);
	wb_artifact_free(a);
	return wb_cli_finish(cli, item, rc);
}

static cJSON *manifest_json(const struct wb_manifest *m, int *rc)
{
	struct wb_jb b = wb_jb_new();
	cJSON *entries = NULL;

	wb_jb_int(&b, "version", m->version);
	wb_jb_str(&b, "storagePolicy", m->storage_policy);
	wb_jb_str(&b, "storageLayout", m->layout == WB_LAYOUT_V2 ? "V2" : "V1");
	wb_jb_str(&b, "storageRegion", m->region);
	entries = wb_jb_array(&b, "entries");
	for (size_t i = 0; entries && !b.rc && i < m->n_entries; i++) {
		const struct wb_manifest_entry *e = &m->entries[i];
		struct wb_jb eb = wb_jb_new();
		int erc = 0;
		cJSON *item;

		wb_jb_str(&eb, "path", e->path);
		wb_jb_str(&eb, "digest", e->digest);
		wb_jb_int(&eb, "size", e->size);
		wb_jb_str(&eb, "birthArtifactID", e->birth_artifact_id);
		wb_jb_str(&eb, "ref", e->ref);
		wb_jb_json(&eb, "extra", e->extra);
		item = wb_jb_done(&eb, &erc);
		wb_jb_append(&b, entries, item, erc);
	}
	return wb_jb_done(&b, rc);
}

static int cmd_manifest(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_artifact *a = NULL;
	struct wb_manifest *m = NULL;
	cJSON *item;
	int rc;

	if (argc != 2)
		return WB_CLI_USAGE;
	rc = get_artifact(cli, argv[1], NULL, &a);
	if (rc == -EINVAL && !cli->err.code)
		return WB_CLI_USAGE;
	if (!rc)
		rc = wb_manifest_fetch(cli->client, a->id, &m, &cli->err);
	wb_artifact_free(a);
	if (rc)
		return wb_cli_result(cli, rc, &cli->err);
	item = manifest_json(m, &rc);
	wb_manifest_free(m);
	return wb_cli_finish(cli, item, rc);
}

static int collect_url(void *ud, const char *path, const char *url)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "path", path);
	wb_jb_str(&b, "url", url);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

/* ENT/PROJ/NAME:ALIAS (the alias stays with the name) */
static int list_file_urls(struct listing *l, struct wb_cli *cli)
{
	struct wb_artifact *a = NULL;
	int rc = wb_artifact_get(cli->client, l->path[0], l->path[1],
				 l->path[2], &a, &cli->err);

	if (!rc)
		rc = wb_artifact_file_urls(cli->client, a, l->per_page,
					   collect_url, l->arr, &cli->err);
	wb_artifact_free(a);
	return rc;
}

static int cmd_file_urls(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 3, 1, 1, list_file_urls };

	return run_listing(cli, argc, argv, &spec);
}

static int cmd_artifact_get(struct wb_cli *cli, int argc, char **argv)
{
	static const char *const vias[] = { "fetch", "storage", NULL };
	const struct wb_manifest_entry *e;
	struct wb_artifact *a = NULL;
	struct wb_manifest *m = NULL;
	const char *path, *url;
	struct wb_http_sink sink;
	char *built = NULL;
	struct get_opts g;
	struct out_file o;
	int rc, storage;

	if (parse_get_opts(argc, argv, vias, &g))
		return WB_CLI_USAGE;
	url = g.url; /* as if from wb_artifact_file_urls */
	storage = g.via == 1;
	if (optind != argc - 2 || (url && storage))
		return WB_CLI_USAGE;
	path = argv[optind + 1];
	rc = get_artifact(cli, argv[optind], NULL, &a);
	if (rc == -EINVAL && !cli->err.code)
		return WB_CLI_USAGE;
	if (!rc)
		rc = wb_manifest_fetch(cli->client, a->id, &m, &cli->err);
	/* --via storage: start from the server URL built from the manifest
	 * entry rather than a URL fetched through GraphQL. */
	e = rc ? NULL : wb_manifest_find(m, path);
	if (!rc && storage && e && !e->ref) {
		rc = wb_artifact_storage_url(wb_client_base_url(cli->client),
					     m->layout, m->region, a->entity,
					     a->project, a->collection, e,
					     &built);
		if (rc)
			wb_error_set(&cli->err, rc, 0, "no storage URL for %s",
				     path);
		url = built;
	}
	if (!rc && out_open(cli, g.output, &o, &sink) == WB_CLI_OK) {
		rc = wb_artifact_file_stream(cli->client, a, m, path, url,
					     g.start, g.end, &sink, &cli->err);
		rc = out_close(cli, &o, rc);
	} else {
		rc = wb_cli_result(cli, rc ? rc : -EIO, &cli->err);
	}
	free(built);
	wb_artifact_free(a);
	wb_manifest_free(m);
	return rc;
}

/* ---- organizations and registries ------------------------------------- */

static int collect_org(void *ud, struct wb_org *org)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "name", org->name);
	wb_jb_str(&b, "orgEntity", org->org_entity);
	wb_org_free(org);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

static int cmd_orgs(struct wb_cli *cli, int argc, char **argv)
{
	cJSON *arr;

	if (argc != 2)
		return WB_CLI_USAGE;
	if (!(arr = cJSON_CreateArray()))
		return wb_cli_result(cli, -ENOMEM, NULL);
	return wb_cli_finish(cli, arr,
			     wb_orgs_of_entity(cli->client, argv[1],
					       collect_org, arr, &cli->err));
}

static int collect_registry(void *ud, struct wb_registry *r)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "name", r->name);
	wb_jb_str(&b, "project", r->project);
	wb_jb_str(&b, "orgEntity", r->org_entity);
	wb_jb_str(&b, "id", r->id);
	wb_jb_str(&b, "description", r->description);
	wb_jb_str(&b, "access", r->access);
	wb_jb_str(&b, "createdAt", r->created_at);
	wb_jb_str(&b, "updatedAt", r->updated_at);
	wb_registry_free(r);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

/* registries ORG | registry-collections ORG NAME |
 * registry-versions ORG NAME COLLECTION: the spec's argument count says
 * which. */
static int list_registry(struct listing *l, struct wb_cli *cli)
{
	struct wb_org *org = NULL;
	int rc = wb_org_resolve(cli->client, l->args[0], &org, &cli->err);

	if (rc)
		return rc;
	if (l->n_args == 1)
		rc = wb_registries_list(cli->client, org, collect_registry,
					l->arr, &cli->err);
	else if (l->n_args == 2)
		rc = wb_registry_collections_list(cli->client, org, l->args[1],
						  l->per_page,
						  collect_collection, l->arr,
						  &cli->err);
	else
		rc = wb_registry_versions_list(cli->client, org, l->args[1],
					       l->args[2], l->per_page,
					       collect_artifact, l->arr,
					       &cli->err);
	wb_org_free(org);
	return rc;
}

static int cmd_registries(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 0, 1, 1, list_registry };

	return run_listing(cli, argc, argv, &spec);
}

static int cmd_registry_collections(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 0, 2, 2, list_registry };

	return run_listing(cli, argc, argv, &spec);
}

static int cmd_registry_versions(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 0, 3, 3, list_registry };

	return run_listing(cli, argc, argv, &spec);
}

/* ---- sweeps and reports ----------------------------------------------- */

static cJSON *sweep_json(const struct wb_sweep *s, int *rc)
{
	struct wb_jb b = wb_jb_new();

	wb_jb_str(&b, "id", s->id);
	wb_jb_str(&b, "name", s->name);
	wb_jb_str(&b, "displayName", s->display_name);
	wb_jb_str(&b, "method", s->method);
	wb_jb_str(&b, "state", s->state);
	wb_jb_str(&b, "description", s->description);
	wb_jb_str(&b, "config", s->config);
	wb_jb_double(&b, "bestLoss", s->best_loss, s->has_best_loss);
	wb_jb_int(&b, "runCount", s->run_count);
	wb_jb_int(&b, "runCountExpected", s->run_count_expected);
	wb_jb_str(&b, "createdAt", s->created_at);
	wb_jb_str(&b, "updatedAt", s->updated_at);
	wb_jb_str(&b, "url", s->web_url);
	return wb_jb_done(&b, rc);
}

static int collect_sweep(void *ud, struct wb_sweep *s)
{
	int rc = 0;
	cJSON *item = sweep_json(s, &rc);

	wb_sweep_free(s);
	return collect_add(ud, item, rc);
}

static int cmd_sweep(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_sweep *s = NULL;
	char *path[3];
	cJSON *item;
	int rc;

	if (argc != 2 || wb_cli_split_path(argv[1], path, 3))
		return WB_CLI_USAGE;
	rc = wb_sweep_get(cli->client, path[0], path[1], path[2], &s,
			  &cli->err);
	if (rc)
		return wb_cli_result(cli, rc, &cli->err);
	item = sweep_json(s, &rc);
	wb_sweep_free(s);
	return wb_cli_finish(cli, item, rc);
}

static int list_sweeps(struct listing *l, struct wb_cli *cli)
{
	return wb_sweeps_list(cli->client, l->path[0], l->path[1], l->per_page,
			      collect_sweep, l->arr, &cli->err);
}

static int cmd_sweeps(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 2, 1, 1, list_sweeps };

	return run_listing(cli, argc, argv, &spec);
}

static int collect_sweep_run(void *ud, struct wb_run *r)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "name", r->name);
	wb_jb_str(&b, "displayName", r->display_name);
	wb_jb_str(&b, "state", r->state);
	wb_jb_str(&b, "sweep", r->sweep_name);
	wb_jb_str(&b, "createdAt", r->created_at);
	wb_run_free(r);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

static int list_sweep_runs(struct listing *l, struct wb_cli *cli)
{
	struct wb_runs_query q = { .per_page = l->per_page };

	return wb_sweep_runs(cli->client, l->path[0], l->path[1], l->path[2],
			     &q, collect_sweep_run, l->arr, &cli->err);
}

static int cmd_sweep_runs(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 3, 1, 1, list_sweep_runs };

	return run_listing(cli, argc, argv, &spec);
}

static int collect_report(void *ud, struct wb_report *r)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "id", r->id);
	wb_jb_str(&b, "name", r->name);
	wb_jb_str(&b, "displayName", r->display_name);
	wb_jb_str(&b, "description", r->description);
	wb_jb_str(&b, "user", r->user);
	wb_jb_json(&b, "spec", r->spec);
	wb_jb_str(&b, "createdAt", r->created_at);
	wb_jb_str(&b, "updatedAt", r->updated_at);
	wb_jb_str(&b, "url", r->web_url);
	wb_report_free(r);
	return collect_add(ud, wb_jb_done(&b, &rc), rc);
}

static int list_reports(struct listing *l, struct wb_cli *cli)
{
	return wb_reports_list(cli->client, l->path[0], l->path[1], l->per_page,
			       collect_report, l->arr, &cli->err);
}

static int cmd_reports(struct wb_cli *cli, int argc, char **argv)
{
	static const struct listing_spec spec = { 2, 1, 1, list_reports };

	return run_listing(cli, argc, argv, &spec);
}

const struct wb_cli_cmd wb_cli_data_cmds[] = {
	{ "files", "ENT/PROJ/RUN [--per-page N]", "files of a run", cmd_files },
	{ "file-exists", "ENT/PROJ/RUN NAME", "exact existence of a run file",
	  cmd_file_exists },
	{ "download",
	  "ENT/PROJ/RUN NAME [--range A-B] [-o FILE] "
	  "[--via direct|url] [--url URL]",
	  "bytes of a run file", cmd_download },
	{ "history",
	  "ENT/PROJ/RUN [--min-step N] [--max-step N] [--page N] "
	  "[--samples N]",
	  "history rows (JSONL; full scan unless --samples)", cmd_history },
	{ "events", "ENT/PROJ/RUN [--samples N]", "system-metric rows (JSONL)",
	  cmd_events },
	{ "logs", "ENT/PROJ/RUN [--per-page N]", "console lines (JSONL)",
	  cmd_logs },
	{ "artifact-types", "ENT/PROJ [--per-page N]",
	  "artifact types of a project", cmd_artifact_types },
	{ "collections", "ENT/PROJ [TYPE] [--per-page N]",
	  "artifact collections (of a type)", cmd_collections },
	{ "versions", "ENT/PROJ [TYPE] NAME [--per-page N] [--memberships]",
	  "versions of a collection", cmd_versions },
	{ "artifact", "ENT/PROJ/NAME:ALIAS | --id ID", "one artifact version",
	  cmd_artifact },
	{ "manifest", "ENT/PROJ/NAME:ALIAS", "an artifact's manifest",
	  cmd_manifest },
	{ "file-urls", "ENT/PROJ/NAME:ALIAS [--per-page N]",
	  "download URLs of an artifact's files", cmd_file_urls },
	{ "artifact-get",
	  "ENT/PROJ/NAME:ALIAS PATH [--range A-B] [-o FILE] "
	  "[--via fetch|storage] [--url URL]",
	  "bytes of an artifact file", cmd_artifact_get },
	{ "orgs", "ENTITY", "organizations of an entity", cmd_orgs },
	{ "registries", "ORG", "registries of an organization",
	  cmd_registries },
	{ "registry-collections", "ORG NAME [--per-page N]",
	  "collections of a registry", cmd_registry_collections },
	{ "registry-versions", "ORG NAME COLLECTION [--per-page N]",
	  "linked versions of a registry collection", cmd_registry_versions },
	{ "sweep", "ENT/PROJ/ID", "one sweep", cmd_sweep },
	{ "sweeps", "ENT/PROJ [--per-page N]", "sweeps of a project",
	  cmd_sweeps },
	{ "sweep-runs", "ENT/PROJ/ID [--per-page N]", "runs of a sweep",
	  cmd_sweep_runs },
	{ "reports", "ENT/PROJ [--per-page N]", "reports of a project",
	  cmd_reports },
	{ NULL, NULL, NULL, NULL },
};
