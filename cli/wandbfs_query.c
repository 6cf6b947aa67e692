/* wandbfs_query.c — wandbfs-query: a command-line window on the client
 * library that prints JSON (debugging, scripts, benchmarks). Owns main(),
 * global options, the helpers declared in cli.h and the core commands
 * (viewer, entity, projects, project, runs, run, runs-fetch, config). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "wb_log.h"
#include "wb_settings.h"

#define PROG "wandbfs-query"

/* ---- helpers shared with cmd_data.c (cli.h) --------------------------- */

int wb_cli_print(struct wb_cli *cli, const cJSON *item)
{
	size_t len;
	char *text = wb_json_print(item, cli->style, &len);

	if (!text)
		return wb_cli_result(cli, -ENOMEM, NULL);
	fwrite(text, 1, len, stdout);
	fputc('\n', stdout);
	free(text);
	if (fflush(stdout) || ferror(stdout)) {
		wb_error_set(&cli->err, -EIO, 0, "cannot write output: %s",
			     strerror(errno));
		return WB_CLI_ERROR;
	}
	return WB_CLI_OK;
}

int wb_cli_finish(struct wb_cli *cli, cJSON *item, int rc)
{
	int out = rc || !item ? wb_cli_result(cli, rc ? rc : -ENOMEM, NULL)
			      : wb_cli_print(cli, item);

	cJSON_Delete(item);
	return out;
}

int wb_cli_result(struct wb_cli *cli, int rc, const struct wb_error *err)
{
	if (!rc)
		return WB_CLI_OK;
	if (err && err->code && err != &cli->err)
		cli->err = *err;
	else if (!cli->err.code)
		wb_error_set(&cli->err, rc, 0, "%s", strerror(-rc));
	return WB_CLI_ERROR;
}

int wb_cli_split_path(char *path, char **parts, int n)
{
	char *p = path;

	for (int i = 0; i < n; i++) {
		char *slash = i < n - 1 ? strchr(p, '/') : NULL;

		if (i < n - 1 && !slash)
			return -EINVAL;
		if (slash)
			*slash = '\0';
		if (!*p || (i == n - 1 && strchr(p, '/')))
			return -EINVAL;
		parts[i] = p;
		p = slash ? slash + 1 : p;
	}
	return 0;
}

int wb_cli_parse_heavy(const char *list, unsigned *mask)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "config", WB_RUN_CONFIG },
		{ "summary", WB_RUN_SUMMARY },
		{ "system", WB_RUN_SYSTEM_METRICS },
		{ "historykeys", WB_RUN_HISTORY_KEYS },
		{ "all", WB_RUN_HEAVY_ALL },
	};
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n &&
			    strncmp(p, names[i].name, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*mask |= names[i].bit;
		p += n + (p[n] == ',');
	}
	return *mask ? 0 : -EINVAL;
}

int wb_cli_parse_int(const char *s, long long min, long long max,
		     long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- JSON for the typed results --------------------------------------- */

static cJSON *viewer_json(const struct wb_viewer *v, int *rc)
{
	struct wb_jb b = wb_jb_new();
	cJSON *orgs = NULL;

	wb_jb_str(&b, "id", v->id);
	wb_jb_str(&b, "username", v->username);
	wb_jb_str(&b, "entity", v->entity);
	wb_jb_str(&b, "email", v->email);
	wb_jb_strv(&b, "teams", v->teams, v->n_teams);
	orgs = wb_jb_array(&b, "organizations");
	for (size_t i = 0; orgs && !b.rc && i < v->n_orgs; i++) {
		struct wb_jb org = wb_jb_new();
		int org_rc = 0;
		cJSON *item;

		wb_jb_str(&org, "name", v->orgs[i]);
		wb_jb_str(&org, "orgEntity", v->org_entities[i]);
		item = wb_jb_done(&org, &org_rc);
		wb_jb_append(&b, orgs, item, org_rc);
	}
	return wb_jb_done(&b, rc);
}

/* ---- core commands ---------------------------------------------------- */

static int cmd_viewer(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_viewer *v;
	cJSON *o;
	int rc;

	(void)argv;
	if (argc != 1)
		return WB_CLI_USAGE;
	rc = wb_viewer_get(cli->client, &v, &cli->err);
	if (rc)
		return wb_cli_result(cli, rc, NULL);
	o = viewer_json(v, &rc);
	wb_viewer_free(v);
	return wb_cli_finish(cli, o, rc);
}

static int cmd_entity(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_entity *e;
	struct wb_jb b;
	int rc;

	if (argc != 2)
		return WB_CLI_USAGE;
	rc = wb_entity_get(cli->client, argv[1], &e, &cli->err);
	if (rc)
		return wb_cli_result(cli, rc, NULL);
	b = wb_jb_new();
	wb_jb_str(&b, "id", e->id);
	wb_jb_str(&b, "name", e->name);
	wb_jb_bool(&b, "isTeam", e->is_team);
	wb_entity_free(e);
	return wb_cli_finish(cli, wb_jb_done(&b, &rc), rc);
}

/* Listing callbacks collect JSON into an array. */
static int collect_project(void *ud, struct wb_project *p)
{
	cJSON *o;
	int rc = wb_project_json(p, &o);

	wb_project_free(p);
	if (!o || !cJSON_AddItemToArray(ud, o)) {
		cJSON_Delete(o);
		return rc ? rc : -ENOMEM;
	}
	return 0;
}

static int cmd_projects(struct wb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "per-page", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	long long per_page = 0;
	cJSON *arr;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (opt != 'p' ||
		    wb_cli_parse_int(optarg, 1, 100000, &per_page))
			return WB_CLI_USAGE;
	if (optind != argc - 1)
		return WB_CLI_USAGE;
	arr = cJSON_CreateArray();
	if (!arr)
		return wb_cli_result(cli, -ENOMEM, NULL);
	rc = wb_projects_list(cli->client, argv[optind], (int)per_page,
			      collect_project, arr, &cli->err);
	return wb_cli_finish(cli, arr, rc);
}

static int cmd_project(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_project *p;
	char *path[2];
	cJSON *o;
	int rc;

	if (argc != 2 || wb_cli_split_path(argv[1], path, 2))
		return WB_CLI_USAGE;
	rc = wb_project_get(cli->client, path[0], path[1], &p, &cli->err);
	if (rc)
		return wb_cli_result(cli, rc, NULL);
	rc = wb_project_json(p, &o);
	wb_project_free(p);
	return wb_cli_finish(cli, o, rc);
}

/* Runs of ent/proj collected into arr. wb_runs_fetch() calls back from
 * several threads at once: the lock guards arr and rc (rendering happens
 * outside it). */
struct run_sink {
	const char *ent, *proj;
	pthread_mutex_t lock;
	cJSON *arr;
	int rc; /* why collecting stopped */
};

static void run_sink_init(struct run_sink *s, const char *ent, const char *proj)
{
	*s = (struct run_sink){ .ent = ent,
				.proj = proj,
				.arr = cJSON_CreateArray() };
	pthread_mutex_init(&s->lock, NULL);
}

static void run_sink_clear(struct run_sink *s)
{
	pthread_mutex_destroy(&s->lock);
	cJSON_Delete(s->arr);
}

static int collect_run(void *ud, struct wb_run *r)
{
	struct run_sink *s = ud;
	cJSON *o;
	int rc = wb_run_json(r, s->ent, s->proj, WB_RUN_HEAVY_ALL, &o);

	wb_run_free(r);
	pthread_mutex_lock(&s->lock);
	if (!rc && !cJSON_AddItemToArray(s->arr, o))
		rc = -ENOMEM;
	if (rc) {
		cJSON_Delete(o);
		s->rc = rc;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The failure of a run listing: the sink's own error (a heavy field that is
 * not JSON, OOM) or the client's. */
static int runs_result(struct wb_cli *cli, const struct run_sink *s, int rc)
{
	if (rc && s->rc == rc)
		wb_error_set(&cli->err, rc, 0, "%s",
			     rc == -EBADMSG ? "a heavy field is not valid JSON"
					    : strerror(-rc));
	return rc ? wb_cli_result(cli, rc, NULL) : wb_cli_print(cli, s->arr);
}

static int cmd_runs(struct wb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "order", required_argument, NULL, 'o' },
		{ "per-page", required_argument, NULL, 'p' },
		{ "heavy", required_argument, NULL, 'H' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct wb_runs_query q = { 0 };
	struct run_sink sink;
	long long n;
	char *path[2];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			q.filters = optarg;
			break;
		case 'o':
			q.order = optarg;
			break;
		case 'p':
			if (wb_cli_parse_int(optarg, 1, 100000, &n))
				return WB_CLI_USAGE;
			q.per_page = (int)n;
			break;
		case 'H':
			if (wb_cli_parse_heavy(optarg, &q.heavy))
				return WB_CLI_USAGE;
			break;
		case 'l':
			if (wb_cli_parse_int(optarg, 1, INT64_MAX, &n))
				return WB_CLI_USAGE;
			q.limit = n;
			break;
		default:
			return WB_CLI_USAGE;
		}
	}
	if (optind != argc - 1 || wb_cli_split_path(argv[optind], path, 2))
		return WB_CLI_USAGE;
	run_sink_init(&sink, path[0], path[1]);
	rc = sink.arr ? wb_runs_list(cli->client, path[0], path[1], &q,
				     collect_run, &sink, &cli->err)
		      : -ENOMEM;
	rc = runs_result(cli, &sink, rc);
	run_sink_clear(&sink);
	return rc;
}

/* --heavy LIST as the only option of run / runs-fetch. */
static int parse_heavy_only(int argc, char **argv, unsigned *heavy)
{
	static const struct option opts[] = {
		{ "heavy", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*heavy = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (opt != 'H' || wb_cli_parse_heavy(optarg, heavy))
			return -EINVAL;
	return 0;
}

static int cmd_run(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_run *r;
	unsigned heavy;
	char *path[3];
	cJSON *o;
	int rc;

	if (parse_heavy_only(argc, argv, &heavy) || optind != argc - 1 ||
	    wb_cli_split_path(argv[optind], path, 3))
		return WB_CLI_USAGE;
	rc = wb_run_get(cli->client, path[0], path[1], path[2], heavy, &r,
			&cli->err);
	if (rc)
		return wb_cli_result(cli, rc, NULL);
	rc = wb_run_json(r, path[0], path[1], WB_RUN_HEAVY_ALL, &o);
	wb_run_free(r);
	if (rc == -EBADMSG)
		wb_error_set(&cli->err, rc, 0,
			     "a heavy field is not valid "
			     "JSON");
	return wb_cli_finish(cli, o, rc);
}

static int cmp_run_name(const void *a, const void *b)
{
	return strcmp(wb_json_get_str(*(cJSON *const *)a, "name"),
		      wb_json_get_str(*(cJSON *const *)b, "name"));
}

/* bsearch: a name against a slot (a slot already printed is NULL, but
 * slots keep their sorted position, so compare with its saved name). */
struct slot {
	const char *name;
	cJSON *run;
};

static int cmp_slot_key(const void *key, const void *slot)
{
	return strcmp(key, ((const struct slot *)slot)->name);
}

/* Runs arrive in completion order; print them in the order asked for,
 * each once. */
static cJSON *in_request_order(cJSON *arr, char **names, int n)
{
	int count = cJSON_GetArraySize(arr), k = 0;
	cJSON **runs = calloc((size_t)count + 1, sizeof(*runs));
	struct slot *slots = calloc((size_t)count + 1, sizeof(*slots));
	cJSON *out = cJSON_CreateArray(), *it;

	if (!runs || !slots || !out) {
		free(runs);
		free(slots);
		cJSON_Delete(out);
		return NULL;
	}
	while ((it = arr->child))
		runs[k++] = cJSON_DetachItemViaPointer(arr, it);
	qsort(runs, (size_t)count, sizeof(*runs), cmp_run_name);
	for (int i = 0; i < count; i++)
		slots[i] = (struct slot){ wb_json_get_str(runs[i], "name"),
					  runs[i] };
	for (int i = 0; i < n; i++) {
		struct slot *hit = bsearch(names[i], slots, (size_t)count,
					   sizeof(*slots), cmp_slot_key);

		if (hit && hit->run) {
			cJSON_AddItemToArray(out, hit->run);
			hit->run = NULL;
		}
	}
	for (int i = 0; i < count; i++)
		cJSON_Delete(slots[i].run);
	free(slots);
	free(runs);
	return out;
}

static int cmd_runs_fetch(struct wb_cli *cli, int argc, char **argv)
{
	struct run_sink sink;
	unsigned heavy;
	char *path[2];
	cJSON *ordered;
	int rc;

	if (parse_heavy_only(argc, argv, &heavy) || optind > argc - 2 ||
	    wb_cli_split_path(argv[optind], path, 2))
		return WB_CLI_USAGE;
	run_sink_init(&sink, path[0], path[1]);
	rc = sink.arr ? wb_runs_fetch(cli->client, path[0], path[1],
				      (const char *const *)argv + optind + 1,
				      (size_t)(argc - optind - 1), heavy,
				      collect_run, &sink, &cli->err)
		      : -ENOMEM;
	if (rc) {
		rc = runs_result(cli, &sink, rc);
		run_sink_clear(&sink);
		return rc;
	}
	ordered = in_request_order(sink.arr, argv + optind + 1,
				   argc - optind - 1);
	run_sink_clear(&sink);
	return wb_cli_finish(cli, ordered, 0);
}

static int cmd_config(struct wb_cli *cli, int argc, char **argv)
{
	struct wb_run *r;
	char *path[3];
	cJSON *config;
	int rc;

	if (argc != 2 || wb_cli_split_path(argv[1], path, 3))
		return WB_CLI_USAGE;
	rc = wb_run_get(cli->client, path[0], path[1], path[2], WB_RUN_CONFIG,
			&r, &cli->err);
	if (rc)
		return wb_cli_result(cli, rc, NULL);
	rc = wb_config_unwrap(r->config, strlen(r->config), &config, &cli->err);
	wb_run_free(r);
	return wb_cli_finish(cli, rc ? NULL : config, rc);
}

static const struct wb_cli_cmd core_cmds[] = {
	{ "viewer", "", "the user the key belongs to, teams, orgs",
	  cmd_viewer },
	{ "entity", "NAME", "one entity (user or team)", cmd_entity },
	{ "projects", "ENTITY [--per-page N]", "all projects of an entity",
	  cmd_projects },
	{ "project", "ENT/PROJ", "one project", cmd_project },
	{ "runs",
	  "ENT/PROJ [--filter JSON] [--order O] [--per-page N] "
	  "[--heavy H] [--limit N]",
	  "list runs", cmd_runs },
	{ "run", "ENT/PROJ/RUN [--heavy H]", "one run", cmd_run },
	{ "runs-fetch", "ENT/PROJ RUN... [--heavy H]",
	  "named runs, batched and in parallel", cmd_runs_fetch },
	{ "config", "ENT/PROJ/RUN", "a run's config, unwrapped", cmd_config },
	{ NULL, NULL, NULL, NULL },
};

/* ---- main ------------------------------------------------------------- */

#define N_TABLES 2
static const struct wb_cli_cmd *const cmd_tables[N_TABLES] = {
	core_cmds,
	wb_cli_data_cmds,
};

/* One screen: the options, then the command names wrapped (their
 * arguments are in `COMMAND --help`). */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [OPTIONS] COMMAND [ARGS]\n"
		"Query the W&B API and print JSON. The API key comes from "
		"WANDB_API_KEY or netrc.\n"
		"options (before COMMAND):\n"
		"  --base-url URL     API server (else WANDB_BASE_URL, "
		"settings, api.wandb.ai)\n"
		"  --max-requests N   requests in flight at once\n"
		"  --compact          compact JSON (default: indented)\n"
		"  --stats            HTTP statistics on stderr at exit\n"
		"  -v, --verbose      debug log on stderr\n"
		"  -h, --help         this text\n"
		"commands (COMMAND --help shows its arguments):\n");
	for (size_t t = 0; t < N_TABLES; t++) {
		int col = 0;

		for (const struct wb_cli_cmd *c = cmd_tables[t]; c->name; c++) {
			int n = (int)strlen(c->name);

			if (col && col + 1 + n > 78) {
				fputc('\n', f);
				col = 0;
			}
			col += fprintf(f, "%s%s", col ? " " : "  ", c->name);
		}
		if (col)
			fputc('\n', f);
	}
	fprintf(f, "exit status: 0 ok, 1 error, 2 usage\n");
}

static void cmd_usage(FILE *f, const struct wb_cli_cmd *cmd)
{
	fprintf(f, "usage: " PROG " [OPTIONS] %s %s\n  %s\n", cmd->name,
		cmd->synopsis, cmd->help);
	if (strstr(cmd->synopsis, "--heavy"))
		fprintf(f,
			"  H: comma list of config, summary, system, "
			"historykeys, all\n");
}

static const struct wb_cli_cmd *find_cmd(const char *name)
{
	for (size_t t = 0; t < N_TABLES; t++)
		for (const struct wb_cli_cmd *c = cmd_tables[t]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

static void log_to_stderr(void *ud, enum wb_log_level level, const char *line)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	(void)ud;
	fprintf(stderr, PROG ": [%s] %s\n", names[level], line);
}

/* TLS verification stays on unless the SDK's own switch says otherwise
 * (wb_http reads the retry and timeout variables itself). */
static int insecure_from_env(void)
{
	const char *v = getenv("WANDB_INSECURE_DISABLE_SSL");

	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

static void print_stats(struct wb_client *c)
{
	struct wb_http_stats s;

	wb_http_get_stats(wb_client_http(c), &s);
	fprintf(stderr,
		PROG ": stats: requests=%" PRIu64 " api=%" PRIu64
		     " storage=%" PRIu64 " retries=%" PRIu64
		     " bytes_in=%" PRIu64 "\n",
		s.requests, s.api_requests, s.storage_requests, s.retries,
		s.bytes_in);
}

static int report(const struct wb_error *err)
{
	const char *name = strerrorname_np(-err->code);

	fprintf(stderr, PROG ": %s (%s)\n",
		err->msg[0] ? err->msg : strerror(-err->code),
		name ? name : "error");
	return WB_CLI_ERROR;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base-url", required_argument, NULL, 'b' },
		{ "max-requests", required_argument, NULL, 'm' },
		{ "compact", no_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wb_cli cli = { .style = WB_JSON_PRETTY };
	struct wb_http_opts http = { .max_retries = -1 };
	struct wb_settings settings = { 0 };
	const char *base_url = NULL;
	const struct wb_cli_cmd *cmd;
	int opt, stats = 0, rc;
	long long n;

	while ((opt = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			base_url = optarg;
			break;
		case 'm':
			if (wb_cli_parse_int(optarg, 1, 256, &n)) {
				usage(stderr);
				return WB_CLI_USAGE;
			}
			http.max_inflight = (int)n;
			break;
		case 'c':
			cli.style = WB_JSON_COMPACT;
			break;
		case 's':
			stats = 1;
			break;
		case 'v':
			wb_log_set_sink(log_to_stderr, NULL, WB_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return WB_CLI_OK;
		default:
			usage(stderr);
			return WB_CLI_USAGE;
		}
	}
	if (optind >= argc || !(cmd = find_cmd(argv[optind]))) {
		if (optind < argc)
			fprintf(stderr, PROG ": unknown command %s\n",
				argv[optind]);
		usage(stderr);
		return WB_CLI_USAGE;
	}

	for (int i = optind + 1; i < argc && strcmp(argv[i], "--"); i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cmd_usage(stdout, cmd);
			return WB_CLI_OK;
		}

	rc = wb_settings_resolve(base_url, NULL, &settings, &cli.err);
	if (rc)
		return report(&cli.err);
	if (!settings.api_key) {
		char *host = wb_url_netloc(settings.base_url);

		wb_error_set(&cli.err, -EACCES, 0,
			     "no API key: set "
			     "WANDB_API_KEY or add a netrc entry for %s",
			     host ? host : settings.base_url);
		free(host);
		wb_settings_clear(&settings);
		return report(&cli.err);
	}
	http.insecure = insecure_from_env();
	rc = wb_client_new(&settings, &http, &cli.client, &cli.err);
	wb_settings_clear(&settings);
	if (rc)
		return report(&cli.err);

	{
		int cargc = argc - optind;
		char **cargv = argv + optind;

		optind = 0; /* full getopt re-initialisation (glibc) */
		rc = cmd->run(&cli, cargc, cargv);
	}
	if (rc == WB_CLI_USAGE)
		cmd_usage(stderr, cmd);
	else if (rc == WB_CLI_ERROR)
		report(&cli.err);
	if (stats)
		print_stats(cli.client);
	wb_client_free(cli.client);
	return rc;
}
