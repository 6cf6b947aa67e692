/* settings.c — where the base URL, app URL, API key, entity and organization
 * come from, the way the W&B SDK finds them (wb_settings.h; doc/api-notes.md,
 * "Base URL, app URL and credentials"): overrides, environment, settings INI
 * files and netrc.
 * Secrets read from netrc are wiped from every temporary buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_settings.h"

#define DEFAULT_BASE_URL "https://api.wandb.ai"
#define SETTINGS_FILE_MAX (1 << 20)
#define NETRC_FILE_MAX (1 << 20)

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* $HOME, else the passwd entry; malloc'd or NULL. */
static char *home_dir(void)
{
	const char *h = env_nonempty("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (h)
		return strdup(h);
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
		return strdup(res->pw_dir);
	return NULL;
}

/* Python os.path.expanduser: "~" and "~/x" use HOME, "~user/x" that
 * user's home; anything else is returned as is. malloc'd or NULL. */
static char *expand_user(const char *path)
{
	const char *rest;
	char *home = NULL, *out = NULL;

	if (path[0] != '~')
		return strdup(path);
	rest = path + 1 + strcspn(path + 1, "/");
	if (rest == path + 1) {
		home = home_dir();
	} else {
		struct passwd pw, *res = NULL;
		char buf[4096];
		char *name = strndup(path + 1, (size_t)(rest - path - 1));

		if (!name)
			return NULL;
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res)
			home = strdup(res->pw_dir);
		free(name);
	}
	if (!home)
		return strdup(path);
	/* "/" + "/x" would double the slash */
	if (asprintf(&out, "%s%s", strcmp(home, "/") == 0 && *rest ? "" : home,
		     rest) < 0)
		out = NULL;
	free(home);
	return out;
}

/* Whole file into a NUL-terminated buffer (at most max bytes), or NULL. */
static char *read_file(const char *path, size_t max, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) { /* too big to be a settings or netrc file */
		explicit_bzero(buf, max + 1);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len_out)
		*len_out = n;
	return buf;
}

static void free_secret(char *s, size_t len)
{
	if (s) {
		explicit_bzero(s, len);
		free(s);
	}
}

/* ---- URLs ------------------------------------------------------------ */

/* Start of the authority (after "scheme://") of an http(s) URL, or NULL. */
static const char *http_authority(const char *url)
{
	if (strncasecmp(url, "http://", 7) == 0)
		return url + 7;
	if (strncasecmp(url, "https://", 8) == 0)
		return url + 8;
	return NULL;
}

char *wb_url_netloc(const char *url)
{
	const char *a = url ? http_authority(url) : NULL;
	size_t n;

	if (!a)
		return NULL;
	n = strcspn(a, "/?#");
	if (n == 0)
		return NULL;
	return strndup(a, n);
}

char *wb_app_url_for(const char *base_url)
{
	const char *p = strstr(base_url, "://api.");
	char *out;
	size_t n;

	if (!p)
		return strdup(base_url);
	p += strlen("://api.");
	/* api.wandb.test -> app.wandb.test (dev); api.wandb.<x> -> wandb.<x>
	 * (cloud); api.<host> -> app.<host> (dedicated/on-prem) */
	if (asprintf(&out, "%.*s://%s%s",
		     (int)(p - base_url - strlen("://api.")), base_url,
		     strncmp(p, "wandb.", 6) == 0 &&
				     strncmp(p, "wandb.test", 10) != 0
			     ? ""
			     : "app.",
		     p) < 0)
		return NULL;
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

/* Validate and normalise a base URL in place (trailing '/' removed). */
static int check_base_url(char *url, struct wb_error *err)
{
	const char *a = http_authority(url);
	size_t n = strlen(url), auth_len;
	const char *w;

	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return wb_error_set(
				err, -EINVAL, 0,
				"base URL contains whitespace or control characters");
	if (!a)
		return wb_error_set(
			err, -EINVAL, 0,
			"base URL %.200s must start with http:// or https://",
			url);
	auth_len = strcspn(a, "/?#");
	if (auth_len == 0)
		return wb_error_set(err, -EINVAL, 0,
				    "base URL %.200s has no host", url);
	if (memchr(a, '@', auth_len))
		return wb_error_set(
			err, -EINVAL, 0,
			"base URL must not carry credentials; use WANDB_API_KEY or netrc");
	if (strpbrk(a + auth_len, "?#"))
		return wb_error_set(
			err, -EINVAL, 0,
			"base URL %.200s must not have a query or fragment",
			url);
	/* The SDK's check for the public cloud: a URL ending in a wandb.ai
	 * host must name the api. host over https. */
	w = strstr(url, "wandb.ai");
	while (w && strstr(w + 1, "wandb.ai"))
		w = strstr(w + 1, "wandb.ai");
	if (w && !strchr(w + strlen("wandb.ai"), '.')) {
		if (!strstr(url, "api."))
			return wb_error_set(
				err, -EINVAL, 0,
				"%.200s is not a valid server address, did you mean " DEFAULT_BASE_URL
				"?",
				url);
		if (strncmp(url, "https", 5) != 0)
			return wb_error_set(
				err, -EINVAL, 0,
				"http is not secure, please use " DEFAULT_BASE_URL);
	}
	return 0;
}

/* ---- settings files (INI, section [default]) ------------------------- */

struct ini_values {
	char *base_url, *entity, *organization;
};

static void ini_values_clear(struct ini_values *v)
{
	free(v->base_url);
	free(v->entity);
	free(v->organization);
	memset(v, 0, sizeof(*v));
}

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Read the keys we use from [default]; like configparser, keys are
 * case-insensitive, '=' or ':' separates, '#'/';' start comment lines and
 * the last occurrence wins. A missing file leaves v untouched. */
static int ini_read(const char *path, struct ini_values *v)
{
	char *buf = read_file(path, SETTINGS_FILE_MAX, NULL);
	char *line, *save = NULL;
	int in_default = 0;

	if (!buf)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s = strip(line), *sep, *key, *val, **slot = NULL;

		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			in_default = end &&
				(size_t)(end - s - 1) == strlen("default") &&
				strncmp(s + 1, "default", 7) == 0;
			continue;
		}
		if (!in_default)
			continue;
		sep = s + strcspn(s, "=:");
		if (!*sep)
			continue;
		*sep = '\0';
		key = strip(s);
		val = strip(sep + 1);
		if (strcasecmp(key, "base_url") == 0)
			slot = &v->base_url;
		else if (strcasecmp(key, "entity") == 0)
			slot = &v->entity;
		else if (strcasecmp(key, "organization") == 0)
			slot = &v->organization;
		if (!slot)
			continue;
		free(*slot);
		*slot = *val ? strdup(val) : NULL;
		if (*val && !*slot) {
			free(buf);
			return -ENOMEM;
		}
	}
	free(buf);
	return 0;
}

static char *global_settings_path(void)
{
	const char *dir = env_nonempty("WANDB_CONFIG_DIR");
	char *home, *out = NULL;

	if (dir) {
		char *d = expand_user(dir);

		if (d && asprintf(&out, "%s/settings", d) < 0)
			out = NULL;
		free(d);
		return out;
	}
	home = home_dir();
	if (home && asprintf(&out, "%s/.config/wandb/settings", home) < 0)
		out = NULL;
	free(home);
	return out;
}

/* Global settings, then the workspace file ./wandb/settings on top. */
static int load_settings_files(struct ini_values *v)
{
	struct ini_values ws = { 0 };
	char *g = global_settings_path();
	int rc = g ? ini_read(g, v) : 0;

	free(g);
	if (!rc)
		rc = ini_read("wandb/settings", &ws);
	if (rc) {
		ini_values_clear(&ws);
		return rc;
	}
#define OVERRIDE(f)                  \
	do {                         \
		if (ws.f) {          \
			free(v->f);  \
			v->f = ws.f; \
			ws.f = NULL; \
		}                    \
	} while (0)
	OVERRIDE(base_url);
	OVERRIDE(entity);
	OVERRIDE(organization);
#undef OVERRIDE
	ini_values_clear(&ws);
	return 0;
}

/* ---- netrc ----------------------------------------------------------- */

/* Tokenizer with the rules of Python's netrc module: whitespace separates,
 * "double quotes" group (backslash escapes inside), a backslash escapes the
 * next character anywhere. */
struct netrc_lex {
	const char *p, *end;
	int ended_at_newline; /* the last token's terminator was '\n' */
};

static int netrc_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Next token into tok (bounded, NUL-terminated); returns its length, 0 at
 * end of input — and, as in Python, for a quoted "" too, which therefore
 * ends the file's parse. */
static size_t netrc_token(struct netrc_lex *lx, char *tok, size_t cap)
{
	size_t n = 0;

	lx->ended_at_newline = 0;
	while (lx->p < lx->end && netrc_ws(*lx->p))
		lx->p++;
	if (lx->p >= lx->end) {
		tok[0] = '\0';
		return 0;
	}
#define PUT(c)                          \
	do {                            \
		if (n + 1 < cap)        \
			tok[n++] = (c); \
	} while (0)
	if (*lx->p == '"') {
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			PUT(*lx->p);
		}
		if (lx->p < lx->end)
			lx->p++; /* closing quote */
	} else {
		for (; lx->p < lx->end && !netrc_ws(*lx->p); lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			PUT(*lx->p);
		}
		if (lx->p < lx->end) {
			lx->ended_at_newline = *lx->p == '\n';
			lx->p++;
		}
	}
#undef PUT
	tok[n] = '\0';
	return n;
}

static void netrc_skip_line(struct netrc_lex *lx)
{
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
	if (lx->p < lx->end)
		lx->p++;
}

/* A comment token: skip the rest of its line unless it already ended it. */
static void netrc_comment(struct netrc_lex *lx)
{
	if (!lx->ended_at_newline)
		netrc_skip_line(lx);
}

/* macdef body: lines up to an empty line; 0, or -EINVAL at EOF. */
static int netrc_skip_macro(struct netrc_lex *lx)
{
	/* the rest of the macdef line first (Python reads on with readline) */
	if (!lx->ended_at_newline)
		netrc_skip_line(lx);
	for (;;) {
		if (lx->p >= lx->end)
			return -EINVAL;
		if (*lx->p == '\n') {
			lx->p++;
			return 0;
		}
		netrc_skip_line(lx);
	}
}

char *wb_netrc_password(const char *path, const char *machine)
{
	size_t len = 0, cap;
	char *buf, *tok = NULL, *pass = NULL, *match = NULL, *dflt = NULL;
	struct netrc_lex lx;
	int bad = 0, done = 0;

	if (!path || !machine)
		return NULL;
	buf = read_file(path, NETRC_FILE_MAX, &len);
	if (!buf)
		return NULL;
	cap = len + 1;
	tok = malloc(cap);
	pass = malloc(cap);
	if (!tok || !pass)
		goto out;
	lx.p = buf;
	lx.end = buf + len;
	lx.ended_at_newline = 0;

	while (!done) {
		int is_default = 0, is_match;

		if (!netrc_token(&lx, tok, cap))
			break;
		if (tok[0] == '#') {
			netrc_comment(&lx);
			continue;
		}
		if (strcmp(tok, "macdef") == 0) {
			netrc_token(&lx, tok, cap);
			if (netrc_skip_macro(&lx)) {
				bad = 1;
				break;
			}
			continue;
		}
		if (strcmp(tok, "default") == 0) {
			is_default = 1;
		} else if (strcmp(tok, "machine") == 0) {
			if (!netrc_token(&lx, tok, cap)) {
				bad = 1;
				break;
			}
		} else {
			bad = 1; /* bad toplevel token */
			break;
		}
		is_match = !is_default && strcmp(tok, machine) == 0;
		pass[0] = '\0';
		/* the entry's followers, until the next entry */
		for (;;) {
			const char *save = lx.p;

			if (!netrc_token(&lx, tok, cap)) {
				done = 1;
				break;
			}
			if (tok[0] == '#') {
				netrc_comment(&lx);
				continue;
			}
			if (strcmp(tok, "machine") == 0 ||
			    strcmp(tok, "default") == 0 ||
			    strcmp(tok, "macdef") == 0) {
				lx.p = save; /* push back */
				break;
			}
			if (strcmp(tok, "login") == 0 ||
			    strcmp(tok, "user") == 0 ||
			    strcmp(tok, "account") == 0) {
				netrc_token(&lx, tok, cap);
			} else if (strcmp(tok, "password") == 0) {
				netrc_token(&lx, pass, cap);
			} else {
				bad = 1; /* bad follower token */
				break;
			}
		}
		if (bad)
			break;
		/* later entries for the same machine replace earlier ones */
		if (is_match || is_default) {
			char **slot = is_match ? &match : &dflt;

			free_secret(*slot, *slot ? strlen(*slot) : 0);
			*slot = strdup(pass);
		}
	}
out:
	if (bad) {
		free_secret(match, match ? strlen(match) : 0);
		match = NULL;
		free_secret(dflt, dflt ? strlen(dflt) : 0);
		dflt = NULL;
	}
	if (!match) {
		match = dflt;
		dflt = NULL;
	}
	free_secret(dflt, dflt ? strlen(dflt) : 0);
	if (match && !*match) { /* empty password: ignored */
		free(match);
		match = NULL;
	}
	free_secret(buf, len);
	free_secret(tok, tok ? cap : 0);
	free_secret(pass, pass ? cap : 0);
	return match;
}

/* $NETRC (with ~), else ~/.netrc if it exists, else ~/_netrc if it
 * exists; NULL when there is none. */
static char *netrc_path(void)
{
	const char *env = env_nonempty("NETRC");
	const char *names[] = { ".netrc", "_netrc" };
	char *home, *p = NULL;
	struct stat st;

	if (env)
		return expand_user(env);
	home = home_dir();
	if (!home)
		return NULL;
	for (size_t i = 0; i < 2; i++) {
		if (asprintf(&p, "%s/%s", home, names[i]) < 0) {
			p = NULL;
			break;
		}
		if (stat(p, &st) == 0)
			break;
		free(p);
		p = NULL;
	}
	free(home);
	return p;
}

/* ---- resolve --------------------------------------------------------- */

void wb_settings_clear(struct wb_settings *s)
{
	if (!s)
		return;
	if (s->api_key)
		free_secret(s->api_key, strlen(s->api_key));
	free(s->base_url);
	free(s->app_url);
	free(s->entity);
	free(s->organization);
	memset(s, 0, sizeof(*s));
}

static int dup_or_null(const char *v, char **out)
{
	*out = NULL;
	if (!v || !*v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

int wb_settings_resolve(const char *base_url_override,
			const char *api_key_override, struct wb_settings *out,
			struct wb_error *err)
{
	struct ini_values ini = { 0 };
	struct wb_settings s = { 0 };
	const char *base, *v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = load_settings_files(&ini);
	if (rc)
		goto oom;

	base = base_url_override && *base_url_override ? base_url_override
		: env_nonempty("WANDB_BASE_URL")
		? env_nonempty("WANDB_BASE_URL")
		: ini.base_url ? ini.base_url
			       : DEFAULT_BASE_URL;
	s.base_url = strdup(base);
	if (!s.base_url)
		goto oom;
	rc = check_base_url(s.base_url, err);
	if (rc)
		goto fail;

	v = env_nonempty("WANDB_APP_URL");
	if (v) {
		size_t n;

		s.app_url = strdup(v);
		if (!s.app_url)
			goto oom;
		n = strlen(s.app_url);
		while (n > 0 && s.app_url[n - 1] == '/')
			s.app_url[--n] = '\0';
	} else {
		s.app_url = wb_app_url_for(s.base_url);
		if (!s.app_url)
			goto oom;
	}

	v = api_key_override && *api_key_override
		? api_key_override
		: env_nonempty("WANDB_API_KEY");
	if (v) {
		s.api_key = strdup(v);
		if (!s.api_key)
			goto oom;
	} else {
		char *path = netrc_path(), *machine = wb_url_netloc(s.base_url);

		if (path && machine)
			s.api_key = wb_netrc_password(path, machine);
		free(path);
		free(machine);
	}

	v = env_nonempty("WANDB_ENTITY");
	if (dup_or_null(v ? v : ini.entity, &s.entity))
		goto oom;
	v = env_nonempty("WANDB_ORGANIZATION");
	if (dup_or_null(v ? v : ini.organization, &s.organization))
		goto oom;

	ini_values_clear(&ini);
	*out = s;
	return 0;
oom:
	rc = wb_error_set(err, -ENOMEM, 0, "out of memory resolving settings");
fail:
	ini_values_clear(&ini);
	wb_settings_clear(&s);
	return rc;
}
