/* test_fs_render.c — fs/render.c: the exact bytes of config.json and
 * summary.json (a run's heavy files), metadata.json (its light record) and
 * project.json, blob reuse for unchanged bytes (the kernel keeps its pages),
 * mtime bumps for changed bytes, timestamp parsing, name listings, and
 * out-of-memory while rendering: an error, never a file with a key missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fail_alloc.h"
#include "wfs_render.h"

static void assert_blob(const struct wfs_blob *b, const char *text)
{
	assert_non_null(b);
	assert_int_equal(b->len, strlen(text));
	assert_memory_equal(b->data, text, b->len);
}

/* Writable string literals for the client structs (char *, not const). */
#define S(lit) ((char *)memcpy(malloc(sizeof(lit)), lit, sizeof(lit)))

/* A run as the client hands it over (only what render reads), heavy
 * fields copied when given; release with wb_run_free(), or hand it to
 * wfs_render_run(). */
static struct wb_run *run_fixture(const char *config, const char *summary)
{
	struct wb_run *r = calloc(1, sizeof(*r));

	r->id = S("UnVuOnYxOmFiYzEyMzpwcm9q");
	r->name = S("abc123");
	r->display_name = S("swift-river-7");
	r->state = S("finished");
	r->group = S("sweep-a");
	r->notes = S("first try");
	r->host = S("gpu-box");
	r->commit = S("0123abcd");
	r->created_at = S("2023-11-05T17:46:35");
	r->heartbeat_at = S("2023-11-05T18:00:00.123456");
	r->user_name = S("Alice");
	r->user_username = S("alice");
	r->tags = calloc(2, sizeof(char *));
	r->tags[0] = S("baseline");
	r->tags[1] = S("gpu");
	r->n_tags = 2;
	r->history_line_count = 1234;
	r->project_id = -1;
	r->web_url = S("https://wandb.ai/alice/proj/runs/abc123");
	if (config || summary) {
		r->heavy = WB_RUN_CONFIG | WB_RUN_SUMMARY;
		r->config = strdup(config);
		r->summary = strdup(summary);
	}
	return r;
}

static void test_run_heavy_bytes(void **state)
{
	const char *config =
		"{\"lr\": {\"desc\": null, \"value\": 0.0010}, "
		"\"_wandb\": {\"value\": {\"cli_version\": \"0.16.1\"}}, "
		"\"wandb_version\": 1, "
		"\"big\": {\"value\": 12345678901234567890123}, "
		"\"opt\": {\"value\": {\"name\": \"adam\", \"betas\": [0.9, 0.999]}}, "
		"\"plain\": 3}";
	const char *summary =
		"{\"loss\": NaN, \"best\": -Infinity, \"acc\": 1e-05, "
		"\"train/x\": {\"_type\": \"histogram\", \"bins\": []}, "
		"\"text\": \"caf\\u00e9 \\\"q\\\"\"}";
	struct wb_run *r = run_fixture(config, summary);
	struct wfs_run_rec *rec;
	struct wfs_run_file *cf, *sf;

	(void)state;
	assert_int_equal(wfs_render_run_file(r, WB_RUN_CONFIG, NULL, &cf), 0);
	assert_int_equal(wfs_render_run_file(r, WB_RUN_SUMMARY, NULL, &sf), 0);
	assert_int_equal(cf->cls, WFS_CLASS_FINISHED);
	assert_blob(cf->blob,
		    "{\n"
		    "  \"lr\": 0.0010,\n"
		    "  \"big\": 12345678901234567890123,\n"
		    "  \"opt\": {\n"
		    "    \"name\": \"adam\",\n"
		    "    \"betas\": [\n"
		    "      0.9,\n"
		    "      0.999\n"
		    "    ]\n"
		    "  },\n"
		    "  \"plain\": 3\n"
		    "}\n");
	assert_blob(sf->blob,
		    "{\n"
		    "  \"loss\": NaN,\n"
		    "  \"best\": -Infinity,\n"
		    "  \"acc\": 1e-05,\n"
		    "  \"train/x\": {\n"
		    "    \"_type\": \"histogram\",\n"
		    "    \"bins\": []\n"
		    "  },\n"
		    "  \"text\": \"caf\xc3\xa9 \\\"q\\\"\"\n"
		    "}\n");
	assert_int_equal(cf->blob->mtime, 1699207200);
	assert_int_equal(wfs_render_run(r, NULL, &rec), 0);
	assert_int_equal(rec->cls, WFS_CLASS_FINISHED);
	assert_int_equal(rec->ctime, 1699206395);
	assert_int_equal(rec->mtime, 1699207200);
	wfs_obj_unref(&rec->obj);
	wfs_obj_unref(&cf->obj);
	wfs_obj_unref(&sf->obj);
}

static void test_run_metadata_bytes(void **state)
{
	struct wb_run *r = run_fixture(NULL, NULL);
	struct wfs_run_rec *rec;
	struct wfs_blob *meta, *again;

	(void)state;
	free(r->state);
	r->state = S("running");
	assert_int_equal(wfs_render_run(r, NULL, &rec), 0);
	assert_int_equal(rec->cls, WFS_CLASS_RUNNING);
	meta = wfs_run_metadata(rec, "alice", "proj");
	assert_blob(meta,
		    "{\n"
		    "  \"id\": \"abc123\",\n"
		    "  \"name\": \"abc123\",\n"
		    "  \"displayName\": \"swift-river-7\",\n"
		    "  \"state\": \"running\",\n"
		    "  \"entity\": \"alice\",\n"
		    "  \"project\": \"proj\",\n"
		    "  \"url\": \"https://wandb.ai/alice/proj/runs/abc123\",\n"
		    "  \"tags\": [\n"
		    "    \"baseline\",\n"
		    "    \"gpu\"\n"
		    "  ],\n"
		    "  \"group\": \"sweep-a\",\n"
		    "  \"jobType\": null,\n"
		    "  \"notes\": \"first try\",\n"
		    "  \"host\": \"gpu-box\",\n"
		    "  \"user\": {\n"
		    "    \"name\": \"Alice\",\n"
		    "    \"username\": \"alice\"\n"
		    "  },\n"
		    "  \"createdAt\": \"2023-11-05T17:46:35\",\n"
		    "  \"heartbeatAt\": \"2023-11-05T18:00:00.123456\",\n"
		    "  \"updatedAt\": null,\n"
		    "  \"sweep\": null,\n"
		    "  \"commit\": \"0123abcd\",\n"
		    "  \"historyLineCount\": 1234,\n"
		    "  \"projectId\": null,\n"
		    "  \"storageId\": \"UnVuOnYxOmFiYzEyMzpwcm9q\"\n"
		    "}\n");
	/* Rendered once: the same blob every time. */
	again = wfs_run_metadata(rec, "alice", "proj");
	assert_ptr_equal(again, meta);
	wfs_obj_unref(&again->obj);
	wfs_obj_unref(&meta->obj);
	wfs_obj_unref(&rec->obj);
}

static void test_run_empty_and_bad_heavy(void **state)
{
	struct wb_run *r = run_fixture("", "{\"loss\": 0.5,");
	struct wfs_run_file *cf, *sf;

	(void)state;
	assert_int_equal(wfs_render_run_file(r, WB_RUN_CONFIG, NULL, &cf), 0);
	assert_blob(cf->blob, "{}\n");
	assert_int_equal(cf->err, 0);
	/* Not JSON: no bytes to show, and the reason kept for the reader. */
	assert_int_equal(wfs_render_run_file(r, WB_RUN_SUMMARY, NULL, &sf), 0);
	assert_null(sf->blob);
	assert_int_equal(sf->err, -EBADMSG);
	wfs_obj_unref(&cf->obj);
	wfs_obj_unref(&sf->obj);
	wb_run_free(r);
}

static void test_reuse_unchanged_bytes(void **state)
{
	const char *config = "{\"lr\": {\"value\": 0.1}}";
	struct wb_run *a = run_fixture(config, "{\"step\": 1}");
	struct wb_run *b = run_fixture(config, "{\"step\": 2}");
	struct wb_run *c = run_fixture(config, "{\"step\": 2}");
	struct wfs_run_rec *ra, *rb, *rc;
	struct wfs_run_file *ca, *cb, *sa, *sb;
	struct wfs_blob *ma, *mc;

	(void)state;
	assert_int_equal(wfs_render_run_file(a, WB_RUN_CONFIG, NULL, &ca), 0);
	assert_int_equal(wfs_render_run_file(a, WB_RUN_SUMMARY, NULL, &sa), 0);
	assert_int_equal(wfs_render_run_file(b, WB_RUN_CONFIG, ca, &cb), 0);
	assert_int_equal(wfs_render_run_file(b, WB_RUN_SUMMARY, sa, &sb), 0);
	/* Same bytes: the very same blob (same version, pages stay valid). */
	assert_ptr_equal(ca->blob, cb->blob);
	/* New bytes with an unchanged heartbeat: a newer mtime, so the kernel
	 * notices and drops its cached pages. */
	assert_ptr_not_equal(sa->blob, sb->blob);
	assert_true(sb->blob->version != sa->blob->version);
	assert_true(sb->blob->mtime > sa->blob->mtime);
	assert_blob(sb->blob, "{\n  \"step\": 2\n}\n");
	/* The same light fields: the record itself is kept. */
	assert_int_equal(wfs_render_run(a, NULL, &ra), 0);
	ma = wfs_run_metadata(ra, "e", "p");
	assert_int_equal(wfs_render_run(b, ra, &rb), 0);
	assert_ptr_equal(rb, ra);
	/* A changed state: a new record, new metadata bytes, newer mtime. */
	free(c->state);
	c->state = S("crashed");
	assert_int_equal(wfs_render_run(c, ra, &rc), 0);
	assert_ptr_not_equal(rc, ra);
	mc = wfs_run_metadata(rc, "e", "p");
	assert_non_null(strstr(mc->data, "\"crashed\""));
	assert_true(mc->mtime > ma->mtime);
	wfs_obj_unref(&ma->obj);
	wfs_obj_unref(&mc->obj);
	wfs_obj_unref(&ra->obj);
	wfs_obj_unref(&rb->obj);
	wfs_obj_unref(&rc->obj);
	wfs_obj_unref(&ca->obj);
	wfs_obj_unref(&cb->obj);
	wfs_obj_unref(&sa->obj);
	wfs_obj_unref(&sb->obj);
}

static void test_project_json(void **state)
{
	char id[] = "UHJvamVjdDox", name[] = "mnist", entity[] = "alice",
	     desc[] = "digits", created[] = "2021-02-16T23:44:10.058524",
	     access[] = "PRIVATE",
	     url[] = "https://wandb.ai/alice/mnist/workspace";
	struct wb_project p = { .id = id,
				.name = name,
				.entity = entity,
				.description = desc,
				.created_at = created,
				.access = access,
				.run_count = 42,
				.read_only = 0,
				.web_url = url };
	struct wfs_project_rec *rec, *again;

	(void)state;
	rec = wfs_render_project(&p, NULL);
	assert_non_null(rec);
	assert_blob(rec->json,
		    "{\n"
		    "  \"name\": \"mnist\",\n"
		    "  \"entity\": \"alice\",\n"
		    "  \"id\": \"UHJvamVjdDox\",\n"
		    "  \"description\": \"digits\",\n"
		    "  \"access\": \"PRIVATE\",\n"
		    "  \"createdAt\": \"2021-02-16T23:44:10.058524\",\n"
		    "  \"updatedAt\": null,\n"
		    "  \"runCount\": 42,\n"
		    "  \"readOnly\": false,\n"
		    "  \"url\": \"https://wandb.ai/alice/mnist/workspace\"\n"
		    "}\n");
	assert_int_equal(rec->ctime, 1613519050);
	assert_int_equal(rec->mtime, rec->ctime);
	again = wfs_render_project(&p, rec);
	assert_ptr_equal(again->json, rec->json);
	wfs_obj_unref(&again->obj);
	wfs_obj_unref(&rec->obj);
}

/* Fail each cJSON allocation of a render in turn: the render fails with
 * -ENOMEM (NULL), or gives exactly the bytes of an undisturbed render. */
static void test_render_oom(void **state)
{
	char id[] = "UHJvamVjdDox", name[] = "mnist", entity[] = "alice",
	     url[] = "https://wandb.ai/alice/mnist/workspace";
	struct wb_project p = { .id = id,
				.name = name,
				.entity = entity,
				.run_count = 7,
				.read_only = 1,
				.web_url = url };
	struct wfs_project_rec *want_p = wfs_render_project(&p, NULL), *prec;
	struct wfs_run_rec *rec;
	struct wfs_blob *want_m, *meta;
	long n, failed = 0;

	(void)state;
	assert_non_null(want_p);
	assert_int_equal(wfs_render_run(run_fixture(NULL, NULL), NULL, &rec),
			 0);
	want_m = wfs_run_metadata(rec, "alice", "proj");
	assert_non_null(want_m);
	wfs_obj_unref(&rec->obj);
	for (n = 0;; n++) {
		fail_alloc_at(n);
		prec = wfs_render_project(&p, NULL);
		fail_alloc_off();
		if (!fail_alloc_hit())
			break;
		assert_null(prec);
		failed++;
	}
	assert_non_null(prec);
	assert_blob(prec->json, want_p->json->data);
	wfs_obj_unref(&prec->obj);
	for (n = 0;; n++) {
		assert_int_equal(
			wfs_render_run(run_fixture(NULL, NULL), NULL, &rec), 0);
		fail_alloc_at(n);
		meta = wfs_run_metadata(rec, "alice", "proj");
		fail_alloc_off();
		wfs_obj_unref(&rec->obj);
		if (!fail_alloc_hit())
			break;
		assert_null(meta);
		failed++;
	}
	assert_non_null(meta);
	assert_blob(meta, want_m->data);
	assert_true(failed > 40); /* each key allocates: all were covered */
	wfs_obj_unref(&meta->obj);
	wfs_obj_unref(&want_m->obj);
	wfs_obj_unref(&want_p->obj);
}

static void test_time_parse(void **state)
{
	(void)state;
	assert_int_equal(wfs_time_parse("2023-11-05T17:46:35", 7), 1699206395);
	assert_int_equal(wfs_time_parse("2023-11-05T17:46:35Z", 7), 1699206395);
	assert_int_equal(wfs_time_parse("2023-11-05T17:46:35.5", 7),
			 1699206395);
	assert_int_equal(wfs_time_parse("2023-11-05T19:46:35+02:00", 7),
			 1699206395);
	assert_int_equal(wfs_time_parse("2023-11-05T15:46:35-02:00", 7),
			 1699206395);
	assert_int_equal(wfs_time_parse("yesterday", 7), 7);
	assert_int_equal(wfs_time_parse("2023-11-05T17:46:35junk", 7), 7);
	assert_int_equal(wfs_time_parse(NULL, 7), 7);
}

static void test_names(void **state)
{
	struct wfs_names *l = wfs_names_new();

	(void)state;
	assert_non_null(l);
	assert_int_equal(wfs_names_add(l, "b"), 0);
	assert_int_equal(wfs_names_add(l, "a"), 0);
	assert_int_equal(wfs_names_add(l, "b"), 0); /* duplicate: ignored */
	for (int i = 0; i < 1000; i++) {
		char name[16];

		snprintf(name, sizeof(name), "run%04d", i);
		assert_int_equal(wfs_names_add(l, name), 0);
	}
	assert_int_equal(l->n, 1002);
	assert_string_equal(l->v[0], "b");
	assert_int_equal(wfs_names_find(l, "a"), 1);
	assert_int_equal(wfs_names_find(l, "run0999"), 1001);
	assert_int_equal(wfs_names_find(l, "c"), -1);
	/* Name order (bytewise), positions follow. */
	wfs_names_sort(l);
	assert_string_equal(l->v[0], "a");
	assert_string_equal(l->v[1], "b");
	assert_string_equal(l->v[2], "run0000");
	assert_int_equal(wfs_names_find(l, "b"), 1);
	assert_int_equal(wfs_names_find(l, "run0999"), 1001);
	assert_int_equal(wfs_names_find(l, "run0500"), 502);
	wfs_obj_unref(&l->obj);
	l = wfs_names_new();
	wfs_names_sort(l); /* empty: nothing to sort, no crash */
	assert_int_equal(l->n, 0);
	wfs_obj_unref(&l->obj);

	assert_true(wfs_name_usable("abc123"));
	assert_true(wfs_name_usable("my project é"));
	assert_false(wfs_name_usable(""));
	assert_false(wfs_name_usable("."));
	assert_false(wfs_name_usable(".."));
	assert_false(wfs_name_usable("a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_heavy_bytes),
		cmocka_unit_test(test_run_metadata_bytes),
		cmocka_unit_test(test_run_empty_and_bad_heavy),
		cmocka_unit_test(test_reuse_unchanged_bytes),
		cmocka_unit_test(test_project_json),
		cmocka_unit_test(test_render_oom),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
