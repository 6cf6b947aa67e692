/* test_settings.c — credentials and settings (client/settings.c): netrc
 * parsing (quoting, ports, comments, macdef, default, missing/empty
 * password), settings-file and environment precedence, app URL derivation,
 * base URL normalisation and validation. Each test runs in a fresh HOME and
 * working directory with every WANDB_* variable unset. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "wb_settings.h"

static char tmp_root[PATH_MAX];
static char old_cwd[PATH_MAX];

static void write_file(const char *rel, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
	for (char *p = path + strlen(tmp_root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *path_of(const char *rel)
{
	static char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
	return path;
}

static int setup(void **state)
{
	static const char *const vars[] = {
		"WANDB_BASE_URL", "WANDB_API_KEY",      "WANDB_APP_URL",
		"WANDB_ENTITY",   "WANDB_ORGANIZATION", "WANDB_CONFIG_DIR",
		"NETRC",
	};
	char home[PATH_MAX * 2];

	(void)state;
	strcpy(tmp_root, "/tmp/wbsettings-XXXXXX");
	assert_non_null(mkdtemp(tmp_root));
	for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
		unsetenv(vars[i]);
	snprintf(home, sizeof(home), "%s/home", tmp_root);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	mkdir(path_of("work"), 0700);
	assert_non_null(getcwd(old_cwd, sizeof(old_cwd)));
	assert_int_equal(chdir(path_of("work")), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	assert_int_equal(chdir(old_cwd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ---- netrc ----------------------------------------------------------- */

static void check_netrc(const char *text, const char *machine,
			const char *expect)
{
	char *got;

	write_file("netrc", text);
	got = wb_netrc_password(path_of("netrc"), machine);
	if (!expect && got)
		fail_msg("netrc gave %s for %s, want none", got, machine);
	if (expect && (!got || strcmp(got, expect) != 0))
		fail_msg("netrc gave %s for %s, want %s", got ? got : "(none)",
			 machine, expect);
	free(got);
}

static void test_netrc(void **state)
{
	(void)state;
	check_netrc("machine api.wandb.ai\n  login user\n  password KEY1\n",
		    "api.wandb.ai", "KEY1");
	/* ports are part of the machine name */
	check_netrc("machine localhost:8080 login user password K8080\n"
		    "machine localhost login u password K80\n",
		    "localhost:8080", "K8080");
	check_netrc("machine localhost:8080 login user password K8080\n"
		    "machine localhost login u password K80\n",
		    "localhost", "K80");
	check_netrc("machine localhost:8080 password K\n", "localhost:9090",
		    NULL);
	/* tabs, one line, several entries */
	check_netrc("machine a\tpassword A machine b password B", "b", "B");
	/* quoting and escapes */
	check_netrc("machine \"my host\" password \"pa ss\\\"word\"\n",
		    "my host", "pa ss\"word");
	check_netrc("machine h password ab\\ cd\n", "h", "ab cd");
	/* missing or empty password: none */
	check_netrc("machine h login u\n", "h", NULL);
	check_netrc("machine h login u password \"\"\n", "h", NULL);
	/* default entry; an exact machine wins over it */
	check_netrc("machine other password X\ndefault login u password D\n",
		    "h", "D");
	check_netrc("default login u password D\nmachine other password X\n",
		    "other", "X");
	/* the last entry for a machine wins (as Python's netrc) */
	check_netrc("machine h password OLD\nmachine h password NEW\n", "h",
		    "NEW");
	/* comments */
	check_netrc(
		"# machine h password BAD\nmachine h password GOOD # trailing words\n",
		"h", "GOOD");
	check_netrc("machine h\n# password BAD\n password GOOD\n", "h", "GOOD");
	/* account and user are accepted followers */
	check_netrc("machine h user u account acct password P\n", "h", "P");
	/* macdef bodies end at an empty line */
	check_netrc(
		"macdef init\ncd /\nmachine h password BAD\n\nmachine h password M\n",
		"h", "M");
	/* parse errors mean no credentials at all */
	check_netrc("machine h password P\nmacdef x\nls\n", "h", NULL);
	check_netrc("foo bar\nmachine h password P\n", "h", NULL);
	check_netrc("machine h password P bogus\n", "h", NULL);
	check_netrc("machine\n", "h", NULL);
	/* no file */
	assert_null(wb_netrc_password(path_of("no-such-netrc"), "h"));
}

/* ---- URLs ------------------------------------------------------------ */

static void check_str(char *got, const char *expect)
{
	if (!expect) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, expect);
	free(got);
}

static void test_urls(void **state)
{
	(void)state;
	check_str(wb_url_netloc("https://api.wandb.ai"), "api.wandb.ai");
	check_str(wb_url_netloc("http://localhost:8080/x/y"), "localhost:8080");
	check_str(wb_url_netloc("HTTP://Host.Example:1?q"), "Host.Example:1");
	check_str(wb_url_netloc("http://[::1]:9/"), "[::1]:9");
	check_str(wb_url_netloc("ftp://x"), NULL);
	check_str(wb_url_netloc("http://"), NULL);

	check_str(wb_app_url_for("https://api.wandb.ai"), "https://wandb.ai");
	check_str(wb_app_url_for("https://api.wandb.test"),
		  "https://app.wandb.test");
	check_str(wb_app_url_for("https://api.wandb.eu"), "https://wandb.eu");
	check_str(wb_app_url_for("https://api.acme.com"),
		  "https://app.acme.com");
	check_str(wb_app_url_for("http://localhost:8080"),
		  "http://localhost:8080");
	check_str(wb_app_url_for("https://wandb.acme.com"),
		  "https://wandb.acme.com");
}

/* ---- resolve --------------------------------------------------------- */

static void resolve_ok(struct wb_settings *s, const char *base_override,
		       const char *key_override)
{
	struct wb_error err = { 0 };

	if (wb_settings_resolve(base_override, key_override, s, &err))
		fail_msg("resolve failed: %s", err.msg);
}

static void test_defaults(void **state)
{
	struct wb_settings s;

	(void)state;
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.base_url, "https://api.wandb.ai");
	assert_string_equal(s.app_url, "https://wandb.ai");
	assert_null(s.api_key);
	assert_null(s.entity);
	assert_null(s.organization);
	wb_settings_clear(&s);
	assert_null(s.base_url);
	assert_null(s.app_url);
}

static void test_settings_files(void **state)
{
	struct wb_settings s;

	(void)state;
	write_file("home/.config/wandb/settings",
		   "[other]\nbase_url = http://wrong\n"
		   "[default]\n; comment\nBASE_URL = http://localhost:8080/\n"
		   "entity: ent-global\norganization = Org G\n");
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.base_url, "http://localhost:8080");
	assert_string_equal(s.app_url, "http://localhost:8080");
	assert_string_equal(s.entity, "ent-global");
	assert_string_equal(s.organization, "Org G");
	wb_settings_clear(&s);

	/* the workspace file overrides the global one key by key */
	write_file("work/wandb/settings",
		   "[default]\nbase_url = https://api.acme.com\n");
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.base_url, "https://api.acme.com");
	assert_string_equal(s.app_url, "https://app.acme.com");
	assert_string_equal(s.entity, "ent-global");
	wb_settings_clear(&s);

	/* WANDB_CONFIG_DIR replaces ~/.config/wandb */
	write_file("cfg/settings", "[default]\nentity = ent-cfg\n");
	setenv("WANDB_CONFIG_DIR", path_of("cfg"), 1);
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.entity, "ent-cfg");
	assert_null(s.organization);
	assert_string_equal(s.base_url, "https://api.acme.com");
	wb_settings_clear(&s);
}

static void test_env_precedence(void **state)
{
	struct wb_settings s;

	(void)state;
	write_file(
		"home/.config/wandb/settings",
		"[default]\nbase_url = http://from-file:1\nentity = fe\norganization = fo\n");
	setenv("WANDB_BASE_URL", "http://from-env:2//", 1);
	setenv("WANDB_ENTITY", "ee", 1);
	setenv("WANDB_ORGANIZATION", "eo", 1);
	setenv("WANDB_APP_URL", "https://ui.example/", 1);
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.base_url, "http://from-env:2");
	assert_string_equal(s.app_url, "https://ui.example");
	assert_string_equal(s.entity, "ee");
	assert_string_equal(s.organization, "eo");
	wb_settings_clear(&s);

	resolve_ok(&s, "https://override.example/base/", NULL);
	assert_string_equal(s.base_url, "https://override.example/base");
	wb_settings_clear(&s);

	/* an empty variable counts as unset */
	setenv("WANDB_BASE_URL", "", 1);
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.base_url, "http://from-file:1");
	wb_settings_clear(&s);
}

static void test_api_key_sources(void **state)
{
	struct wb_settings s;

	(void)state;
	setenv("WANDB_BASE_URL", "http://localhost:8080", 1);
	write_file("home/_netrc",
		   "machine localhost:8080 password FROM_UNDERSCORE\n");
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.api_key, "FROM_UNDERSCORE");
	wb_settings_clear(&s);

	write_file("home/.netrc",
		   "machine localhost password WRONG_PORT\n"
		   "machine localhost:8080 login user password FROM_NETRC\n");
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.api_key, "FROM_NETRC");
	wb_settings_clear(&s);

	write_file("home/custom-netrc",
		   "machine localhost:8080 password FROM_NETRC_ENV\n");
	setenv("NETRC", "~/custom-netrc", 1);
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.api_key, "FROM_NETRC_ENV");
	wb_settings_clear(&s);

	/* $NETRC pointing nowhere: no fallback to ~/.netrc */
	setenv("NETRC", path_of("missing"), 1);
	resolve_ok(&s, NULL, NULL);
	assert_null(s.api_key);
	wb_settings_clear(&s);

	setenv("WANDB_API_KEY", "FROM_ENV", 1);
	resolve_ok(&s, NULL, NULL);
	assert_string_equal(s.api_key, "FROM_ENV");
	wb_settings_clear(&s);

	resolve_ok(&s, NULL, "FROM_OVERRIDE");
	assert_string_equal(s.api_key, "FROM_OVERRIDE");
	wb_settings_clear(&s);

	/* the netrc machine follows the base URL, port included */
	unsetenv("WANDB_API_KEY");
	unsetenv("NETRC");
	resolve_ok(&s, "http://localhost", NULL);
	assert_string_equal(s.api_key, "WRONG_PORT");
	wb_settings_clear(&s);
}

static void check_bad_base(const char *url, const char *msg_part)
{
	struct wb_settings s;
	struct wb_error err = { 0 };

	assert_int_equal(wb_settings_resolve(url, NULL, &s, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	if (!strstr(err.msg, msg_part))
		fail_msg("message for %s: %s", url, err.msg);
	assert_null(s.base_url);
}

static void test_bad_base_urls(void **state)
{
	struct wb_settings s;

	(void)state;
	check_bad_base("ftp://example.com", "http");
	check_bad_base("example.com", "http");
	check_bad_base("http://", "no host");
	check_bad_base("https://app.wandb.ai",
		       "did you mean https://api.wandb.ai");
	check_bad_base("https://wandb.ai/", "did you mean");
	check_bad_base("http://api.wandb.ai", "not secure");
	check_bad_base("http://host with space", "whitespace");
	check_bad_base("http://h?x=1", "query");
	{
		struct wb_error err = { 0 };

		assert_int_equal(
			wb_settings_resolve("https://user:s3cret@h.example",
					    NULL, &s, &err),
			-EINVAL);
		assert_null(strstr(err.msg, "s3cret"));
	}
	/* the public cloud URL and look-alike self-hosted hosts are fine */
	resolve_ok(&s, "https://api.wandb.ai/", NULL);
	assert_string_equal(s.base_url, "https://api.wandb.ai");
	wb_settings_clear(&s);
	resolve_ok(&s, "http://wandb.ai.internal:8080", NULL);
	wb_settings_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_netrc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_env_precedence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_api_key_sources, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_base_urls, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
