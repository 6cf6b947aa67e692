/* main.c — the wandbfs program: options (fuse_opt), credentials, the
 * mount-time key check, daemonizing like sshfs, and the session loop.
 *
 * Start-up order and why:
 *  1. parse options; resolve settings as the SDK does (no key: exit 1);
 *  2. check the key with a short-lived client (GET viewer): a rejected key
 *     fails here with one line and exit code 1; an unreachable server only
 *     warns, the mount comes up and each operation reports EIO/ETIMEDOUT
 *     until the server answers;
 *  3. mount, then daemonize (fuse_daemonize), and only then create the
 *     client used by the mount, since the HTTP layer may run threads that a
 *     fork would not carry over.
 * Accepted argument forms: `wandbfs [opts] MOUNTPOINT` and the mount(8) /
 * fstab form `wandbfs SOURCE MOUNTPOINT -o opts` (type fuse.wandbfs, or
 * wandbfs#SOURCE), where SOURCE is an http(s) base URL or ignored.
 */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_log.h"
#include "wb_settings.h"
#include "wfs_data.h"
#include "wfs_diskcache.h"
#include "wfs_fetch.h"
#include "wfs_log.h"
#include "wfs_node.h"
#include "wfs_ops.h"
#include "wfs_prefetch_cmd.h"

#ifndef WFS_VERSION
#define WFS_VERSION "unknown"
#endif

#define TIMEOUT_DEFAULT 30.0      /* seconds per API call, retries included */
#define ATTEMPT_TIMEOUT_MAX 30000 /* ms per attempt */
#define PROBE_TIMEOUT_MAX 10.0    /* the mount-time key check */
#define MAX_THREADS_DEFAULT "32"  /* FUSE worker threads (libfuse: 10) */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct cli {
	char *base_url, *cache_dir, *log_file, *cache_max_bytes, *registry_org;
	double ttl, ttl_running, ttl_finished, ttl_negative, ttl_alias, timeout;
	char *cache_max_disk;
	unsigned max_requests, prefetch_runs;
	int help, version, debug;
	char *pos[2]; /* SOURCE, MOUNTPOINT (or just MOUNTPOINT) */
	int npos;
};

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_DEBUG
};

/* Each option as --name=V and -o name=V (`--name V` is joined into
 * `--name=V` before parsing: fuse_opt's "--name %s" template would also
 * match "--name=V" and take "=V" as the value). */
#define WOPT(longname, oname, fmt, field)                          \
	{ "--" longname "=" fmt, offsetof(struct cli, field), 0 }, \
	{                                                          \
		oname "=" fmt, offsetof(struct cli, field), 0      \
	}

static const char *const long_names[] = {
	"--base-url",           "--cache-ttl",      "--cache-ttl-running",
	"--cache-ttl-finished", "--negative-ttl",   "--cache-dir",
	"--cache-max-bytes",    "--max-requests",   "--timeout",
	"--prefetch-runs",      "--cache-max-disk", "--log-file",
	"--cache-ttl-alias",    "--registry-org",
};

static const struct fuse_opt cli_opts[] = {
	WOPT("base-url", "base_url", "%s", base_url),
	WOPT("cache-ttl", "cache_ttl", "%lf", ttl),
	WOPT("cache-ttl-running", "cache_ttl_running", "%lf", ttl_running),
	WOPT("cache-ttl-finished", "cache_ttl_finished", "%lf", ttl_finished),
	WOPT("negative-ttl", "negative_ttl", "%lf", ttl_negative),
	WOPT("cache-dir", "cache_dir", "%s", cache_dir),
	WOPT("cache-max-bytes", "cache_max_bytes", "%s", cache_max_bytes),
	WOPT("cache-max-disk", "cache_max_disk", "%s", cache_max_disk),
	WOPT("max-requests", "max_requests", "%u", max_requests),
	WOPT("timeout", "timeout", "%lf", timeout),
	WOPT("prefetch-runs", "prefetch_runs", "%u", prefetch_runs),
	WOPT("log-file", "log_file", "%s", log_file),
	WOPT("cache-ttl-alias", "cache_ttl_alias", "%lf", ttl_alias),
	WOPT("registry-org", "registry_org", "%s", registry_org),
	FUSE_OPT_KEY("-h", KEY_HELP), FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION), FUSE_OPT_KEY("--version", KEY_VERSION),
	/* Seen here for the log level, kept for FUSE (which logs too). */
	FUSE_OPT_KEY("-d", KEY_DEBUG), FUSE_OPT_KEY("--debug", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG), FUSE_OPT_END
};

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n"
	       "       %s SOURCE MOUNTPOINT -o opt,...   (fstab; SOURCE: base URL or any)\n"
	       "       %s prefetch [-j N] [-q] PATH...  (warm the caches for a job)\n"
	       "Mounts the W&B API read-only: ENTITY/PROJECT/{runs,artifacts}/..., registry/\n"
	       "Key: WANDB_API_KEY or ~/.netrc; server: WANDB_BASE_URL or W&B settings.\n"
	       "  --base-url=URL              W&B API server (default https://api.wandb.ai)\n"
	       "  --cache-ttl=SECS            listings, project metadata (%g)\n"
	       "  --cache-ttl-running=SECS    files of running runs (%g)\n"
	       "  --cache-ttl-finished=SECS   files of finished runs (%g)\n"
	       "  --negative-ttl=SECS         names found absent (%g)\n"
	       "  --cache-ttl-alias=SECS      artifact aliases (latest, best...) (%g)\n"
	       "  --cache-max-bytes=N[KMG]    memory bound of the cache (256M)\n"
	       "  --cache-dir=DIR             artifact disk cache, shared with the wandb SDK\n"
	       "                              ($WANDB_CACHE_DIR, else ~/.cache/wandb)\n"
	       "  --cache-max-disk=N[KMGT]    bound of the disk cache, LRU (20G; 0 = none)\n"
	       "  --max-requests=N            API requests in flight at once (12)\n"
	       "  --timeout=SECS              per API request, retries included (%g)\n"
	       "  --prefetch-runs=N           most runs read ahead of a walk (%d)\n"
	       "  --log-file=FILE             log each API request and its duration\n"
	       "  --registry-org=ORG          organization of registry/ (the viewer's first)\n"
	       "  -o name=value,...           the same options (cache_ttl=60,...) and FUSE\n"
	       "                              mount options (allow_other, ...)\n"
	       "  -f foreground  -d debug log (implies -f)  -s single-threaded  -h  -V\n"
	       "Unmount with: fusermount3 -u MOUNTPOINT.  See wandbfs(1).\n",
	       prog, prog, prog, WFS_TTL_DEFAULT, WFS_TTL_RUNNING_DEFAULT,
	       WFS_TTL_FINISHED_DEFAULT, WFS_TTL_NEGATIVE_DEFAULT,
	       WFS_TTL_ALIAS_DEFAULT, TIMEOUT_DEFAULT,
	       WFS_PREFETCH_RUNS_DEFAULT);
}

/* argv with every `--name V` of ours joined into `--name=V`; the strings
 * are malloc'd into args (freed by fuse_opt_free_args). 0 or -ENOMEM. */
static int join_spaced(int argc, char *argv[], struct fuse_args *args)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		char joined[PATH_MAX + 64];
		int is_ours = 0;

		for (size_t k = 0; k < ARRAY_LEN(long_names); k++)
			is_ours |= i > 0 && strcmp(a, long_names[k]) == 0;
		if (is_ours && i + 1 < argc) {
			snprintf(joined, sizeof(joined), "%s=%s", a, argv[++i]);
			a = joined;
		}
		if (fuse_opt_add_arg(args, a))
			return -ENOMEM;
	}
	return 0;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct cli *cli = data;

	(void)outargs;
	switch (key) {
	case KEY_HELP:
		cli->help = 1;
		return 0;
	case KEY_VERSION:
		cli->version = 1;
		return 0;
	case KEY_DEBUG:
		cli->debug = 1;
		return 1;
	case FUSE_OPT_KEY_NONOPT:
		if (cli->npos == 2) {
			fprintf(stderr, "wandbfs: unexpected argument '%s'\n",
				arg);
			return -1;
		}
		cli->pos[cli->npos] = strdup(arg);
		if (!cli->pos[cli->npos])
			return -1;
		cli->npos++;
		return 0;
	default:
		return 1; /* FUSE's own options */
	}
}

/* "256M" -> bytes (K, M, G, T are powers of 1024). -EINVAL if malformed. */
static int parse_size(const char *s, size_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end & ~0x20);
		if (!u || (end[1] && !(end[1] == 'B' || end[1] == 'b')) ||
		    (end[1] && end[2]))
			return -EINVAL;
		for (long i = 0; i <= u - units; i++) {
			if (v > ULLONG_MAX / 1024)
				return -EINVAL;
			v *= 1024;
		}
	}
	if (v > SIZE_MAX)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/* --cache-dir and --cache-max-disk. The cache is opened once here, which
 * creates its directories, so that an unusable directory fails the mount
 * with a message on the terminal, not later in a daemon's log. The path is
 * made absolute: the daemon changes to /. */
static int disk_cache_options(const struct cli *cli, struct wfs_options *o)
{
	struct wfs_diskcache *dc;
	char dir[PATH_MAX], *abs;
	size_t max = 0;
	int rc;

	if (cli->cache_max_disk && parse_size(cli->cache_max_disk, &max)) {
		fprintf(stderr,
			"wandbfs: bad --cache-max-disk '%s' (e.g. 20G; "
			"0 = no disk cache)\n",
			cli->cache_max_disk);
		return -EINVAL;
	}
	if (cli->cache_max_disk && max == 0)
		return 0; /* no disk cache */
	o->cache_max_disk = max;
	if (cli->cache_dir)
		rc = snprintf(dir, sizeof(dir), "%s", cli->cache_dir) >=
				(int)sizeof(dir)
			? -ENAMETOOLONG
			: 0;
	else
		rc = wfs_diskcache_default_dir(dir, sizeof(dir));
	if (!rc)
		rc = wfs_diskcache_open(dir, max, &dc);
	if (rc && !cli->cache_dir) {
		/* The default place is unusable (no HOME, read-only):
		 * mount anyway, every read then comes from storage. */
		fprintf(stderr,
			"wandbfs: no disk cache: %s (--cache-dir=DIR "
			"to choose one)\n",
			strerror(-rc));
		return 0;
	}
	if (rc) {
		fprintf(stderr,
			"wandbfs: cannot use the disk cache %s: %s "
			"(or --cache-max-disk=0 for none)\n",
			dir, strerror(-rc));
		return rc;
	}
	wfs_diskcache_close(dc);
	abs = realpath(dir, NULL);
	if (!abs)
		return -errno;
	o->cache_dir = abs;
	return 0;
}

/* Turn the parsed command line into options; prints why on failure. */
static int make_options(struct cli *cli, struct wfs_options *o)
{
	const double ttls[] = { cli->ttl,          cli->ttl_running,
				cli->ttl_finished, cli->ttl_negative,
				cli->ttl_alias,    cli->timeout };

	memset(o, 0, sizeof(*o));
	wfs_cache_policy_defaults(&o->policy);
	/* NAN = not given. */
	for (size_t i = 0; i < ARRAY_LEN(ttls); i++)
		if (ttls[i] < 0) {
			fprintf(stderr, "wandbfs: times must be >= 0\n");
			return -EINVAL;
		}
	if (!isnan(cli->ttl))
		o->policy.ttl = cli->ttl;
	if (!isnan(cli->ttl_running))
		o->policy.ttl_running = cli->ttl_running;
	if (!isnan(cli->ttl_finished))
		o->policy.ttl_finished = cli->ttl_finished;
	if (!isnan(cli->ttl_negative))
		o->policy.ttl_negative = cli->ttl_negative;
	if (!isnan(cli->ttl_alias))
		o->policy.ttl_alias = cli->ttl_alias;
	if (cli->cache_max_bytes &&
	    parse_size(cli->cache_max_bytes, &o->policy.max_bytes)) {
		fprintf(stderr,
			"wandbfs: bad --cache-max-bytes '%s' "
			"(e.g. 512M)\n",
			cli->cache_max_bytes);
		return -EINVAL;
	}
	o->timeout = cli->timeout > 0 ? cli->timeout : TIMEOUT_DEFAULT;
	o->debug = cli->debug;
	o->max_requests = cli->max_requests;
	o->prefetch_runs = cli->prefetch_runs ? cli->prefetch_runs
					      : WFS_PREFETCH_RUNS_DEFAULT;
	o->base_url = cli->base_url;
	o->log_file = cli->log_file;
	o->registry_org = cli->registry_org;
	return disk_cache_options(cli, o);
}

static void http_opts(const struct wfs_options *o, int probe,
		      struct wb_http_opts *h)
{
	double secs = o->timeout;

	memset(h, 0, sizeof(*h));
	h->max_retries = -1;
	if (probe) {
		/* Enough to tell a rejected key from a dead server, quickly. */
		if (secs > PROBE_TIMEOUT_MAX)
			secs = PROBE_TIMEOUT_MAX;
		h->max_retries = 2;
		h->retry_min_ms = 250;
	}
	h->max_inflight = (int)o->max_requests;
	h->deadline_ms = (long)(secs * 1000);
	h->attempt_timeout_ms = h->deadline_ms < ATTEMPT_TIMEOUT_MAX
		? h->deadline_ms
		: ATTEMPT_TIMEOUT_MAX;
}

/* The mount-time key check. 0 (with *viewer, or NULL when the server could
 * not be reached: the mount still comes up) or -EACCES/other fatal errno. */
static int check_key(const struct wb_settings *s, const struct wfs_options *o,
		     struct wb_viewer **viewer)
{
	struct wb_error err = { 0 };
	struct wb_http_opts h;
	struct wb_client *c;
	int rc;

	*viewer = NULL;
	http_opts(o, 1, &h);
	rc = wb_client_new(s, &h, &c, &err);
	if (rc) {
		fprintf(stderr, "wandbfs: %s\n", err.msg);
		return rc;
	}
	rc = wb_viewer_get(c, viewer, &err);
	wb_client_free(c);
	if (rc == -EACCES || rc == -ENOENT) {
		fprintf(stderr,
			"wandbfs: the API key was rejected: %s; check "
			"WANDB_API_KEY or ~/.netrc\n",
			err.msg);
		return -EACCES;
	}
	if (rc) {
		fprintf(stderr,
			"wandbfs: warning: cannot reach %s (%s); "
			"mounting anyway, accesses fail with EIO until it "
			"answers\n",
			s->base_url, err.msg);
		*viewer = NULL;
	}
	return 0;
}

/* Build the argument vector FUSE sees: our defaults first (so the user's
 * -o wins), the user's FUSE options, the mount point, and ro last (always
 * read-only). */
static int fuse_argv(struct fuse_args *args, const char *source,
		     const char *mountpoint)
{
	char defaults[PATH_MAX + 128];
	const char *fsname = source ? source : "wandbfs";

	/* fsname is shown by mount(8); commas would split the option. */
	if (strchr(fsname, ','))
		fsname = "wandbfs";
	snprintf(defaults, sizeof(defaults),
		 "-ofsname=%s,subtype=wandbfs,default_permissions,"
		 "max_threads=" MAX_THREADS_DEFAULT,
		 fsname);
	if (fuse_opt_insert_arg(args, 1, defaults) ||
	    fuse_opt_add_arg(args, mountpoint) ||
	    fuse_opt_add_arg(args, "-oro"))
		return -ENOMEM;
	return 0;
}

static int run_session(struct wfs *fs, struct fuse_args *args,
		       const struct wb_settings *settings,
		       const struct wb_viewer *viewer)
{
	struct wfs_fetch_config fc = { .cache = fs->cache,
				       .prefetch_runs = fs->opt.prefetch_runs };
	struct fuse_cmdline_opts fo = { 0 };
	struct fuse_loop_config *loop;
	struct fuse_session *se;
	struct wb_error err = { 0 };
	struct wfs_data_opts dop = { 0 };
	struct wb_http_opts h;
	int rc = 1;

	if (fuse_parse_cmdline(args, &fo))
		return 1;
	se = fuse_session_new(args, &wfs_ops, sizeof(wfs_ops), fs);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se))
		goto out_session;
	if (fuse_session_mount(se, fo.mountpoint))
		goto out_signals;
	fuse_daemonize(fo.foreground);
	if (!fo.foreground)
		wfs_log_daemonized();

	http_opts(&fs->opt, 0, &h);
	if (wb_client_new(settings, &h, &fs->client, &err)) {
		wb_log(WB_LOG_ERROR, "cannot start the client: %s", err.msg);
		goto out_unmount;
	}
	dop.cache_dir = fs->opt.cache_dir;
	dop.cache_max_disk = fs->opt.cache_max_disk;
	dop.timeout_ms = h.deadline_ms;
	if (wfs_data_new(fs->client, &dop, &fs->data)) {
		wb_log(WB_LOG_ERROR, "cannot start the data plane");
		goto out_unmount;
	}
	wfs_backend_client(&fc.backend, fs->client);
	fs->fetch = wfs_fetch_new(&fc);
	if (!fs->fetch || (viewer && wfs_fetch_seed_viewer(fs->fetch, viewer)))
		goto out_unmount;
	wb_log(WB_LOG_INFO, "mounted %s at %s", settings->base_url,
	       fo.mountpoint);
	if (fo.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(loop, fo.clone_fd);
		fuse_loop_cfg_set_max_threads(loop, fo.max_threads);
		if (fo.max_idle_threads != UINT_MAX) /* UINT_MAX = not given */
			fuse_loop_cfg_set_idle_threads(loop,
						       fo.max_idle_threads);
		rc = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	/* 0 after fusermount3 -u; a signal number after SIGINT/SIGTERM:
	 * both are a clean stop. */
	rc = rc < 0 ? 1 : 0;
	wfs_ops_release_all(fs);
out_unmount:
	/* Before the client goes: read-ahead may still be using it. */
	wfs_fetch_free(fs->fetch);
	fs->fetch = NULL;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out:
	free(fo.mountpoint);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct cli cli = { .ttl = NAN,
			   .ttl_running = NAN,
			   .ttl_finished = NAN,
			   .ttl_negative = NAN,
			   .ttl_alias = NAN,
			   .timeout = NAN };
	struct wb_settings settings = { 0 };
	struct wb_viewer *viewer = NULL;
	struct wb_error err = { 0 };
	struct wfs fs = { 0 };
	const char *source = NULL, *mountpoint;
	int rc = 1;

	/* A subcommand, before any mount option parsing. */
	if (argc > 1 && strcmp(argv[1], "prefetch") == 0)
		return wfs_prefetch_cmd(argc - 1, argv + 1);
	if (join_spaced(argc, argv, &args) ||
	    fuse_opt_parse(&args, &cli, cli_opts, opt_proc))
		goto out;
	if (cli.help) {
		usage(argv[0]);
		rc = 0;
		goto out;
	}
	if (cli.version) {
		printf("wandbfs %s (libfuse %s)\n", WFS_VERSION,
		       fuse_pkgversion());
		rc = 0;
		goto out;
	}
	if (cli.npos == 0) {
		fprintf(stderr, "wandbfs: no mount point (try --help)\n");
		goto out;
	}
	mountpoint = cli.pos[cli.npos - 1];
	if (cli.npos == 2)
		source = cli.pos[0];
	if (!cli.base_url && source &&
	    (strncmp(source, "http://", 7) == 0 ||
	     strncmp(source, "https://", 8) == 0))
		cli.base_url = strdup(source);
	if (make_options(&cli, &fs.opt) || fuse_argv(&args, source, mountpoint))
		goto out;

	if (wb_settings_resolve(fs.opt.base_url, NULL, &settings, &err)) {
		fprintf(stderr, "wandbfs: %s\n", err.msg);
		goto out;
	}
	if (!settings.api_key) {
		fprintf(stderr,
			"wandbfs: no API key for %s: set "
			"WANDB_API_KEY or add a ~/.netrc entry (wandb login)\n",
			settings.base_url);
		goto out;
	}
	rc = wfs_log_start(fs.opt.log_file, fs.opt.debug);
	if (rc) {
		fprintf(stderr, "wandbfs: cannot open log file %s: %s\n",
			fs.opt.log_file, strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	if (check_key(&settings, &fs.opt, &viewer))
		goto out_log;

	pthread_mutex_init(&fs.handles_mu, NULL);
	fs.mount_time = time(NULL);
	fs.uid = getuid();
	fs.gid = getgid();
	fs.cache = wfs_cache_new(&fs.opt.policy, NULL);
	fs.nodes = wfs_nodes_new(&wfs_type_root);
	if (!fs.cache || !fs.nodes) {
		fprintf(stderr, "wandbfs: out of memory\n");
		goto out_fs;
	}
	rc = run_session(&fs, &args, &settings, viewer);
out_fs:
	wfs_nodes_free(fs.nodes); /* closes the readers of streamed files */
	wfs_data_free(fs.data);   /* before its client */
	wb_client_free(fs.client);
	wfs_cache_free(fs.cache);
	pthread_mutex_destroy(&fs.handles_mu);
	wb_viewer_free(viewer);
out_log:
	wfs_log_stop();
out:
	wb_settings_clear(&settings);
	free(fs.opt.cache_dir);
	free(cli.base_url);
	free(cli.cache_dir);
	free(cli.log_file);
	free(cli.registry_org);
	free(cli.cache_max_bytes);
	free(cli.cache_max_disk);
	free(cli.pos[0]);
	free(cli.pos[1]);
	fuse_opt_free_args(&args);
	return rc;
}
