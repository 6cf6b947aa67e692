"""The client core (identity, entities, projects, runs, config) driven through
the real CLI (build/cli/wandbfs-query) against the test server. Answers
are compared with what the server holds, read independently: straight
GraphQL from Python for generated runs, config.yaml parsed by PyYAML for the
corpus. Request counts come from the server's request log."""
import http.server
import json
import math
import os
import re
import subprocess
import threading

import pytest
import yaml

from harness import BUILD, CORPUS, ROOT, SHARED, Server, env_for, raw_runs, same, unwrap

CLI = os.path.join(BUILD, 'cli', 'wandbfs-query')
ALICE_KEY = 'a' * 40
BOB_KEY = 'b' * 40
N_RUNS = 300          # generated runs in alice/many
N_PROJECTS = 23       # alice/p00..p22 (plus 'many', 'secret', 'open' and 'p q ü')
PAGE_CAP = 7          # --page-cap of the paged server
FETCH_BATCH = 50      # heavy runs per request in wb_runs_fetch (client/runs.c)
RUN_DIR_RE = re.compile(r'^(?:offline-run|run|dryrun)-\d{8}_\d{6}-(.+)$')


# ---- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('core-data')
    projects = [{'entity': 'alice', 'name': 'p%02d' % i, 'description': 'project %d' % i}
                for i in range(N_PROJECTS)]
    projects += [{'entity': 'alice', 'name': 'secret', 'access': 'PRIVATE', 'description': 'top'},
                 {'entity': 'alice', 'name': 'p q ü'},
                 {'entity': 'alice', 'name': 'open', 'access': 'PUBLIC'},
                 {'entity': 'bob', 'name': 'hidden', 'access': 'PRIVATE'}]
    server_json = {
        'users': [{'username': 'alice', 'apiKey': ALICE_KEY, 'email': 'alice@example.com',
                   'teams': ['team-a']},
                  {'username': 'bob', 'apiKey': BOB_KEY, 'email': 'bob@example.com'}],
        'teams': [{'name': 'team-a', 'organization': 'Acme'}],
        'organizations': [{'name': 'Acme', 'orgEntity': 'acme-org', 'members': ['alice']}],
        'projects': projects,
        'generate': [{'kind': 'runs', 'entity': 'alice', 'project': 'many', 'count': N_RUNS,
                      'seed': 7, 'runningFraction': 0.1, 'files': False}],
        'import': [{'entity': 'corpus', 'path': os.path.join(CORPUS, 'runs'),
                    'layout': 'project-per-dir'}],
    }
    (d / 'server.json').write_text(json.dumps(server_json))
    return str(d)


@pytest.fixture(scope='module')
def srv(data_dir):
    with Server(data_dir, api_key=ALICE_KEY) as s:
        yield s


@pytest.fixture(scope='module')
def paged(data_dir):
    with Server(data_dir, api_key=ALICE_KEY, extra_args=['--page-cap', str(PAGE_CAP)]) as s:
        yield s


# ---- helpers -------------------------------------------------------------------------------------

def cli(server, *args, key=None, env_extra=None, check=True):
    """Run wandbfs-query; returns (exit code, parsed stdout or None, stderr)."""
    env = env_for(server, api_key=key)
    env.update(env_extra or {})
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=300)
    out = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
    if check:
        assert proc.returncode == 0, 'wandbfs-query %s: %s' % (' '.join(args), proc.stderr)
    return proc.returncode, out, proc.stderr


def graphql_ops(server, op=None):
    return [e for e in server.requests('graphql') if op is None or e.get('op') == op]


def truth_runs(server, entity, project):
    """name -> {config, summaryMetrics} parsed, createdAt and state, for every run."""
    return {n['name']: {'config': json.loads(n['config'] or '{}'),
                        'summaryMetrics': json.loads(n['summaryMetrics'] or '{}'),
                        'createdAt': n['createdAt'], 'state': n['state']}
            for n in raw_runs(server, entity, project, 'name createdAt state config summaryMetrics')}


# ---- identity ------------------------------------------------------------------------------------

def test_viewer_alice_and_bob(srv):
    _, v, _ = cli(srv, 'viewer')
    assert v['username'] == 'alice' and v['entity'] == 'alice'
    assert v['email'] == 'alice@example.com'
    assert v['teams'] == ['team-a']
    assert v['organizations'] == [{'name': 'Acme', 'orgEntity': 'acme-org'}]
    _, b, _ = cli(srv, 'viewer', key=BOB_KEY)
    assert (b['username'], b['teams'], b['organizations']) == ('bob', [], [])


def test_entity(srv):
    _, e, _ = cli(srv, 'entity', 'alice')
    assert (e['name'], e['isTeam']) == ('alice', False)
    _, t, _ = cli(srv, 'entity', 'team-a')
    assert (t['name'], t['isTeam']) == ('team-a', True)
    rc, _, err = cli(srv, 'entity', 'nobody-here', check=False)
    assert rc == 1 and 'ENOENT' in err and 'nobody-here' in err


# ---- projects ------------------------------------------------------------------------------------

def test_projects_every_page(paged):
    before = len(graphql_ops(paged, 'Projects'))
    _, projs, _ = cli(paged, 'projects', 'alice', '--per-page', '5')
    names = [p['name'] for p in projs]
    want = {'p%02d' % i for i in range(N_PROJECTS)} | {'many', 'secret', 'p q ü', 'open'}
    assert sorted(names) == sorted(want)             # every project, once
    sent = graphql_ops(paged, 'Projects')[before:]
    assert len(sent) == math.ceil(len(want) / 5)     # pages of min(5, cap 7)
    assert [r['variables'].get('perPage') for r in sent] == [5] * len(sent)
    # the cursor of each request is the endCursor of the one before
    assert sent[0]['variables'].get('cursor') is None
    assert all(r['variables'].get('cursor') for r in sent[1:])
    # server default page when the cap is smaller than our default (200)
    before = len(graphql_ops(paged, 'Projects'))
    _, projs2, _ = cli(paged, 'projects', 'alice')
    assert [p['name'] for p in projs2] == names
    assert len(graphql_ops(paged, 'Projects')) - before == math.ceil(len(want) / PAGE_CAP)


def test_private_projects_invisible_to_others(srv):
    _, projs, _ = cli(srv, 'projects', 'alice', key=BOB_KEY)
    assert [p['name'] for p in projs] == ['open']    # only the public one
    rc, _, err = cli(srv, 'project', 'alice/secret', key=BOB_KEY, check=False)
    assert rc == 1 and 'ENOENT' in err
    rc, _, err = cli(srv, 'project', 'bob/hidden', check=False)
    assert rc == 1 and 'ENOENT' in err
    _, p, _ = cli(srv, 'project', 'bob/hidden', key=BOB_KEY)
    assert p['name'] == 'hidden'


def test_project_fields_and_web_url(srv):
    _, p, _ = cli(srv, 'project', 'alice/secret')
    assert (p['name'], p['entity'], p['description'], p['access']) == \
        ('secret', 'alice', 'top', 'PRIVATE')
    assert p['runCount'] == 0 and p['createdAt']
    assert p['url'].endswith('/alice/secret/workspace')
    _, m, _ = cli(srv, 'project', 'alice/many')
    assert m['runCount'] == N_RUNS
    _, q, _ = cli(srv, 'project', 'alice/p q ü')
    assert q['url'].endswith('/alice/p%20q%20%C3%BC/workspace')
    assert q['url'][:-len('/alice/p%20q%20%C3%BC/workspace')] == \
        p['url'][:-len('/alice/secret/workspace')]


# ---- runs ----------------------------------------------------------------------------------------

def test_runs_listing_all_pages_light(paged):
    truth = truth_runs(paged, 'alice', 'many')
    before = len(graphql_ops(paged, 'Runs'))
    _, runs, _ = cli(paged, 'runs', 'alice/many')
    assert [r['name'] for r in runs] == sorted(truth, key=lambda n: truth[n]['createdAt'])
    sent = graphql_ops(paged, 'Runs')[before:]
    assert len(sent) == math.ceil(N_RUNS / PAGE_CAP)
    assert all(r['variables']['perPage'] == 1000 for r in sent)
    assert not any(r['variables'].get('withConfig') for r in sent)
    r0 = runs[0]
    assert 'config' not in r0 and r0['state'] == truth[r0['name']]['state']
    assert r0['url'].endswith('/alice/many/runs/' + r0['name'])
    assert isinstance(r0['historyLineCount'], int) and r0['user']['username']


def test_runs_listing_filter_order_limit(paged):
    truth = truth_runs(paged, 'alice', 'many')
    finished = sorted((n for n in truth if truth[n]['state'] == 'finished'),
                      key=lambda n: truth[n]['createdAt'], reverse=True)
    assert 0 < len(finished) < N_RUNS
    before = len(graphql_ops(paged, 'Runs'))
    _, runs, _ = cli(paged, 'runs', 'alice/many', '--filter', '{"state": "finished"}',
                     '--order', '-created_at', '--per-page', '50')
    assert [r['name'] for r in runs] == finished
    sent = graphql_ops(paged, 'Runs')[before:]
    assert len(sent) == math.ceil(len(finished) / PAGE_CAP)
    assert {r['variables']['order'] for r in sent} == {'-created_at'}
    # --limit stops early and asks for no more than it needs
    before = len(graphql_ops(paged, 'Runs'))
    _, runs, _ = cli(paged, 'runs', 'alice/many', '--filter', '{"state": "finished"}',
                     '--order', '-created_at', '--limit', '10')
    assert [r['name'] for r in runs] == finished[:10]
    sent = graphql_ops(paged, 'Runs')[before:]
    assert len(sent) == 2 and [r['variables']['perPage'] for r in sent] == [10, 3]


def test_runs_listing_heavy(srv):
    truth = truth_runs(srv, 'alice', 'many')
    before = len(graphql_ops(srv, 'Runs'))
    _, runs, _ = cli(srv, 'runs', 'alice/many', '--heavy', 'config,summary')
    assert len(runs) == N_RUNS
    assert len(graphql_ops(srv, 'Runs')) - before == math.ceil(N_RUNS / 50)
    for r in runs:
        assert same(r['config'], truth[r['name']]['config']), r['name']
        assert same(r['summaryMetrics'], truth[r['name']]['summaryMetrics']), r['name']
        assert 'systemMetrics' not in r


def test_batched_heavy_fetch_200(srv):
    truth = truth_runs(srv, 'alice', 'many')
    names = sorted(truth)[:200]
    before = len(graphql_ops(srv, 'Runs'))
    _, runs, _ = cli(srv, '--max-requests', '8', 'runs-fetch', 'alice/many', *names,
                     '--heavy', 'config,summary,system,historykeys')
    assert [r['name'] for r in runs] == names        # printed in the order asked
    sent = graphql_ops(srv, 'Runs')[before:]
    assert len(sent) == math.ceil(200 / FETCH_BATCH)
    asked = [n for r in sent for n in json.loads(r['variables']['filters'])['name']['$in']]
    assert sorted(asked) == names                    # each name in exactly one batch
    for r in runs:
        assert same(r['config'], truth[r['name']]['config']), r['name']
        assert same(r['summaryMetrics'], truth[r['name']]['summaryMetrics']), r['name']
        assert isinstance(r['systemMetrics'], dict) and isinstance(r['historyKeys'], dict)


def test_fetch_missing_runs_and_duplicates(srv):
    truth = truth_runs(srv, 'alice', 'many')
    some = sorted(truth)[:3]
    _, runs, _ = cli(srv, 'runs-fetch', 'alice/many', some[0], 'no-such-run', some[1],
                     some[0], some[2], '--heavy', 'config')
    assert [r['name'] for r in runs] == some


def test_run_and_config(srv):
    truth = truth_runs(srv, 'alice', 'many')
    name = sorted(truth)[5]
    _, r, _ = cli(srv, 'run', 'alice/many/' + name, '--heavy', 'config')
    assert r['name'] == name and same(r['config'], truth[name]['config'])
    assert 'summaryMetrics' not in r
    _, c, _ = cli(srv, 'config', 'alice/many/' + name)
    assert same(c, unwrap(truth[name]['config']))
    assert '_wandb' not in c and 'wandb_version' not in c


def test_config_keeps_exact_numbers(srv):
    """Integers beyond 2^53 and float digits survive the client byte for byte."""
    truth = truth_runs(srv, 'alice', 'many')
    big = [n for n in truth if any(isinstance(v, int) and abs(v) > 2 ** 53
                                   for v in unwrap(truth[n]['config']).values())]
    assert big, 'generated data has no big integers in configs'
    _, c, _ = cli(srv, '--compact', 'config', 'alice/many/' + big[0])
    assert same(c, unwrap(truth[big[0]]['config']))


# ---- failures ------------------------------------------------------------------------------------

def test_wrong_key_is_eacces_and_never_echoed(srv):
    bad = 'z' * 40
    for args in (['viewer'], ['runs', 'alice/many']):
        rc, out, err = cli(srv, *args, key=bad, check=False)
        assert rc == 1 and out is None
        assert 'EACCES' in err and 'rejected' in err
        assert bad not in err and ALICE_KEY not in err
        assert len(err.strip().splitlines()) == 1 and err.startswith('wandbfs-query: ')


def test_missing_key_is_an_error(srv):
    env = env_for(srv)
    env.pop('WANDB_API_KEY')
    env['NETRC'] = os.devnull
    env['HOME'] = '/nonexistent'
    proc = subprocess.run([CLI, 'viewer'], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and 'no API key' in proc.stderr


def test_null_project_and_run_are_enoent(srv):
    for args in (['runs', 'alice/nope'], ['project', 'alice/nope'], ['run', 'alice/nope/x'],
                 ['run', 'alice/many/nope'], ['runs-fetch', 'alice/nope', 'x'],
                 ['config', 'alice/many/nope']):
        rc, _, err = cli(srv, *args, check=False)
        assert rc == 1 and 'ENOENT' in err, (args, err)


def test_usage_errors(srv):
    for args in ([], ['bogus'], ['runs'], ['runs', 'noslash'], ['run', 'a/b'],
                 ['runs', 'a/b', '--heavy', 'nope'], ['--api-key', 'x', 'viewer']):
        rc, _, _ = cli(srv, *args, check=False)
        assert rc == 2, args
    proc = subprocess.run([CLI, '--help'], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) <= 24 and max(map(len, lines)) <= 80    # one screen
    for name in ('viewer', 'projects', 'runs-fetch', 'config'):
        assert name in proc.stdout.split()
    # a command's own help needs no key or server
    proc = subprocess.run([CLI, 'runs', '--help'], capture_output=True, text=True, timeout=30,
                          env={'PATH': os.environ.get('PATH', '')})
    assert proc.returncode == 0 and '--filter JSON' in proc.stdout


def test_stats_match_request_log(srv):
    before = len(srv.requests())
    rc, _, err = cli(srv, '--stats', 'viewer')
    m = re.search(r'stats: requests=(\d+) api=(\d+)', err)
    assert m and int(m.group(2)) == len(srv.requests()) - before


def test_faults_are_retried_to_the_right_answer(data_dir, srv):
    truth = truth_runs(srv, 'alice', 'many')
    names = sorted(truth)[:100]
    env = {'WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS': '0.01',
           'WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS': '0.05'}
    with Server(data_dir, api_key=ALICE_KEY, faults='500=0.3,429=0.2:retry_after=0,reset=0.1',
                extra_args=['--page-cap', '40']) as f:
        _, runs, _ = cli(f, 'runs', 'alice/many', '--heavy', 'config', env_extra=env)
        assert [r['name'] for r in runs] == sorted(truth, key=lambda n: truth[n]['createdAt'])
        assert all(same(r['config'], truth[r['name']]['config']) for r in runs)
        _, fetched, _ = cli(f, 'runs-fetch', 'alice/many', *names, '--heavy', 'summary',
                            env_extra=env)
        assert [r['name'] for r in fetched] == names
        assert all(same(r['summaryMetrics'], truth[r['name']]['summaryMetrics']) for r in fetched)
        _, v, _ = cli(f, 'viewer', env_extra=env)
        assert v['username'] == 'alice'
        statuses = [e['status'] for e in f.requests('graphql')]
        assert 500 in statuses and 429 in statuses     # faults really happened


# ---- GraphQL error semantics, against a scripted server --------------------------------------------

class Scripted:
    """A minimal /graphql endpoint answering each operation with a canned
    (status, body); for the error shapes the test server never produces."""

    def __init__(self, answers):
        outer = self
        self.answers = answers
        self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                outer.seen.append(body)
                status, reply = outer.answers[body['operationName']]
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.base_url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.api_key = 'k' * 40
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


VIEWER = {'data': {'viewer': {'id': 'VXNlcjox', 'entity': 'u', 'username': 'u', 'email': None,
                              'teams': {'edges': []}}}}


@pytest.mark.parametrize('answers,code,message', [
    # several errors are joined as the SDK does; partial data is discarded
    ({'Viewer': (200, {'data': VIEWER['data'], 'errors': [{'message': 'boom one'},
                                                          {'message': 'boom two'}]})},
     'EIO', 'Viewer: [boom one; boom two]'),
    ({'Viewer': (200, {'data': None, 'errors': [{'message': 'permission denied'}]})},
     'EIO', 'Viewer: permission denied'),
    # the server rejected the document itself: an old server
    ({'Viewer': (200, {'errors': [{'message': 'Cannot query field "email" on type "User".'}]})},
     'EINVAL', 'Cannot query field'),
    ({'Viewer': (400, {'errors': [{'message': 'Syntax Error: Unexpected Name'}]})},
     'EINVAL', 'Syntax Error: Unexpected Name'),
    ({'Viewer': (200, {'data': {'viewer': None}})}, 'EACCES', 'not recognized'),
    ({'Viewer': (200, {'nodata': 1})}, 'EBADMSG', 'Viewer'),
])
def test_graphql_errors(answers, code, message):
    s = Scripted(answers)
    try:
        rc, out, err = cli(s, 'viewer', check=False)
    finally:
        s.close()
    assert rc == 1 and out is None
    assert err.startswith('wandbfs-query: ') and len(err.strip().splitlines()) == 1
    assert '(%s)' % code in err and message in err, err


def test_organizations_degrade_on_old_server():
    s = Scripted({'Viewer': (200, VIEWER),
                  'ViewerOrganizations': (200, {'errors': [
                      {'message': 'Cannot query field "orgEntity" on type "Organization".'}]})})
    try:
        _, v, _ = cli(s, 'viewer')
    finally:
        s.close()
    assert v['username'] == 'u' and v['organizations'] == []
    # the request carried the document, variables {} and the operation name
    assert [b['operationName'] for b in s.seen] == ['Viewer', 'ViewerOrganizations']
    assert all(b['variables'] == {} and 'query Viewer' in b['query'] for b in s.seen)


# ---- the corpus: config of every real run --------------------------------------------------------

class ConfigYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus YAML 1.2 floats without a dot (`1e-08`).
    SDKs up to 0.17 wrote config.yaml with PyYAML (floats as `1.0e-08`);
    since 0.18 the Go core writes it with YAML 1.2 rules (`1e-08`), which
    PyYAML's 1.1 resolver would misread as a string."""


ConfigYamlLoader.add_implicit_resolver(
    'tag:yaml.org,2002:float', re.compile(r'^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$'),
    list('-+0123456789'))


def corpus_runs():
    """(project, run dir) of every corpus run with a config.yaml."""
    out = []
    runs_dir = os.path.join(CORPUS, 'runs')
    for project in sorted(os.listdir(runs_dir)):
        for run_dir in sorted(os.listdir(os.path.join(runs_dir, project))):
            path = os.path.join(runs_dir, project, run_dir)
            if not os.path.isdir(path) or run_dir.startswith('sweep-'):
                continue
            for cfg in (os.path.join(path, 'files', 'config.yaml'), os.path.join(path, 'config.yaml')):
                if os.path.exists(cfg):
                    out.append((project, run_dir, cfg))
                    break
    return out


def test_corpus_config_equals_python_unwrap(data_dir):
    # a key that is not among the users belongs to `tester`, who reads every entity
    with Server(data_dir, api_key='t' * 40) as t:
        corpus_configs_match(t)


def corpus_configs_match(srv):
    runs = corpus_runs()
    assert len(runs) >= 60
    names = {}
    for project in {p for p, _, _ in runs}:
        _, listed, _ = cli(srv, 'runs', 'corpus/' + project)
        names[project] = {r['name'] for r in listed}
    checked = 0
    for project, run_dir, cfg in runs:
        m = RUN_DIR_RE.match(run_dir)
        run_id = m.group(1) if m else None
        if run_id is None:   # other names: the id comes from the run's files
            rest = names[project] - {RUN_DIR_RE.match(d).group(1) for p, d, _ in runs
                                     if p == project and RUN_DIR_RE.match(d)}
            assert len(rest) == 1, (project, run_dir, rest)
            run_id = rest.pop()
        assert run_id in names[project], (project, run_dir)
        with open(cfg, encoding='utf-8') as f:
            want = unwrap(yaml.load(f, Loader=ConfigYamlLoader))
        want = json.loads(json.dumps(want, default=str))   # keys as JSON has them
        _, got, _ = cli(srv, 'config', 'corpus/%s/%s' % (project, run_id))
        assert same(got, want), (project, run_dir)
        checked += 1
    assert checked == len(runs)


# ---- every request we sent is valid for the schema, variables included ---------------------------

def test_request_log_validates(srv, paged):
    env = dict(os.environ, GRAPHQL_MODULE_DIR=os.path.join(ROOT, 'tests', 'server', 'node_modules'))
    for s in (srv, paged):
        ours = [e for e in s.requests('graphql') if e.get('op') and not e['op'] == 'T']
        assert ours
        path = os.path.join(s.tmp, 'ours.jsonl')
        with open(path, 'w', encoding='utf-8') as f:
            for e in ours:
                f.write(json.dumps({'query': e['query'], 'variables': e['variables'],
                                    'operationName': e['op']}) + '\n')
        proc = subprocess.run(['node', os.path.join(SHARED, 'wandb-schema', 'validate.mjs'),
                               '--quiet', path], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
