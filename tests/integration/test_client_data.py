"""The client's data API (run files, history, events, console logs, artifacts,
manifests, file URLs, registries, sweeps, reports) driven through
wandbfs-query against the test server, comparing bytes with the sources.

Also: an "old server" proxy that rejects every document the 2023 base schema
does not validate (as an older self-hosted W&B would), to prove the fallbacks;
storage faults; an expired pre-signed URL; and, from every storage log, that
no Authorization header ever reached storage."""
import base64
import glob
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import subprocess
import threading
import urllib.parse

import pytest

from harness import BUILD, CORPUS, ROOT, SHARED, Server, composed_queries, env_for, run_validate

QUERY = os.path.join(BUILD, 'cli', 'wandbfs-query')
NODE_MODULES = os.path.join(ROOT, 'tests', 'server', 'node_modules')
BASE_SCHEMA = os.path.join(SHARED, 'wandb-schema', 'schema.graphql')
PAGE_CAP = 50
RUN = 'alice/files-proj/fil3s001'
KEY = 'k' * 40

# Documents of this helper that must validate against the 2023 base schema
# (the core read paths), and those that may use the extension (with a
# tested fallback).
BASE_DOCS = ['RunFiles', 'RunHistoryKeys', 'RunHistoryWindow', 'RunSampledHistory',
             'RunEvents', 'RunLogTail', 'ProjectArtifactTypes', 'ArtifactTypeCollections',
             'ProjectArtifactCollections', 'CollectionArtifacts', 'CollectionMemberships',
             'CollectionMembershipByAlias', 'ArtifactByID', 'FetchArtifactManifest',
             'ArtifactFileUrls', 'EntityOrganizations', 'OrgEntity', 'GetSweep',
             'GetSweepsBase', 'ProjectViews']
EXT_DOCS = ['RunLogLines', 'ArtifactMembershipByName', 'ArtifactMembershipFileUrls',
            'FetchOrgInfoFromEntity', 'FetchOrganization', 'GetSweeps']


# History with gaps between steps (empty windows mid-run), extended JSON and
# a big integer, which must come back verbatim.
GAPPED_STEPS = [0, 1, 2, 50, 51, 400, 1999, 2000]
GAPPED_ROWS = ['{"_step": %d, "loss": %s, "n": 9007199254740993%d}'
               % (s, 'NaN' if s == 51 else '0.%d' % (s + 1), s) for s in GAPPED_STEPS]


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# ---- the data directory ---------------------------------------------------------------------

def run_files():
    """The files of the hand-made run, name -> bytes."""
    rnd = random.Random(7)
    lines = ''.join('line %03d of the console %s\n' % (i, 'x' * (i % 9)) for i in range(137))
    return {
        'wandb-history.jsonl': ''.join(r + '\n' for r in GAPPED_ROWS).encode(),
        'config.yaml': b'wandb_version: 1\nlr:\n  desc: null\n  value: 0.1\n',
        'wandb-summary.json': b'{"loss": 0.5}',
        'output.log': lines.encode(),
        'data/blob.bin': bytes(rnd.getrandbits(8) for _ in range(300000)),
        'empty.txt': b'',
        # LIKE metacharacters: an unescaped "a_b.txt" would match aXb.txt,
        # an unescaped "a%.txt" would match a%z.txt.
        'aXb.txt': b'x',
        'a%z.txt': b'percent',
        'back\\slash.txt': b'backslash',
        '\u00fcn\u00ef/\u30d5\u30a1\u30a4\u30eb.txt': 'unicode \u2713\n'.encode(),
    }


def write_data_dir(root):
    files_dir = os.path.join(root, 'alice', 'files-proj', 'run-20240101_000000-fil3s001', 'files')
    for name, data in run_files().items():
        path = os.path.join(files_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
    blob = os.path.join(root, 'blob.bin')
    with open(blob, 'wb') as f:
        f.write(bytes(random.Random(3).getrandbits(8) for _ in range(70000)))
    cfg = {
        'teams': [{'name': 'team-x', 'organization': 'Org Display'}],
        'organizations': [{'name': 'Org Display', 'orgEntity': 'org-ent', 'members': []}],
        'import': [{'entity': 'corpus', 'path': os.path.join(CORPUS, 'runs'),
                    'layout': 'project-per-dir'}],
        'generate': [
            {'kind': 'runs', 'entity': 'gen', 'project': 'sweepy', 'count': 12, 'seed': 3,
             'sweeps': 2},
            {'kind': 'artifact', 'entity': 'alice', 'project': 'big', 'type': 'dataset',
             'name': 'many', 'versions': 1, 'files': 120, 'fileSize': 64, 'layout': 'V2'},
        ],
        'artifacts': [
            {'entity': 'alice', 'project': 'arts', 'type': 'dataset', 'name': 'mixed',
             'versions': [
                 {'files': {'README.md': 'hello\n', 'dir/blob.bin': {'file': 'blob.bin'},
                            'gen/x.bin': {'size': 5000, 'seed': 'x'},
                            'sp ace/#h%.txt': 'odd name\n'}},
                 {'files': {'README.md': 'hello again\n', 'dir/blob.bin': {'file': 'blob.bin'},
                            'gen/x.bin': {'size': 5000, 'seed': 'x'},
                            'ext/s3.csv': {'ref': 's3://bucket/key.csv', 'digest': 'abc-1',
                                           'size': 10},
                            'linked/readme.md': {'artifact': 'alice/arts/mixed:v0',
                                                 'path': 'README.md'}},
                  'aliases': ['cleaned'], 'metadata': {'rows': 2}},
             ]},
            {'entity': 'alice', 'project': 'arts', 'type': 'dataset', 'name': 'old',
             'versions': [{'layout': 'V1', 'files': {'a.txt': 'v1 layout\n',
                                                     'deep/b.json': '{"b": 1}\n'}}]},
            {'entity': 'alice', 'project': 'arts', 'type': 'model', 'name': 'regional',
             'versions': [{'region': 'coreweave-us', 'files': {'w/model.bin': {'size': 40000,
                                                                                 'seed': 'm'}}}]},
            {'entity': 'alice', 'project': 'arts', 'type': 'table', 'name': 'navya',
             'versions': [{'manifest': os.path.join(
                 CORPUS, 'manifests', 'Navya003__gnlp_protein__wandb_manifest__dc18abbb.json')}]},
        ],
        'registries': [
            {'organization': 'Org Display', 'name': 'models',
             'collections': [{'name': 'best-mixed', 'type': 'dataset',
                              'links': [{'entity': 'alice', 'project': 'arts',
                                         'artifact': 'mixed:v1', 'aliases': ['prod']}]}]},
        ],
    }
    with open(os.path.join(root, 'server.json'), 'w') as f:
        json.dump(cfg, f)


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('client-data'))
    write_data_dir(root)
    return root


def check_storage_log(server):
    """No request that reached storage carried an Authorization header."""
    path = server.request_log + '.storage.jsonl'
    n = 0
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    e = json.loads(line)
                    assert e.get('auth', '') == '', 'Authorization reached storage: %s' % e['uri']
                    n += 1
    return n


@pytest.fixture(scope='module')
def server(data_dir):
    with Server(data_dir, api_key=KEY, extra_args=['--page-cap', str(PAGE_CAP)]) as s:
        yield s
        check_storage_log(s)


def q(server, *args, ok=True, base_url=None, env_extra=None):
    env = env_for(server)
    if base_url:
        env['WANDB_BASE_URL'] = base_url
    env.update(env_extra or {})
    p = subprocess.run([QUERY, '--compact'] + list(args), capture_output=True, env=env,
                       timeout=120)
    if ok:
        assert p.returncode == 0, (args, p.stderr.decode(errors='replace'))
    return p


def qjson(server, *args, **kw):
    return json.loads(q(server, *args, **kw).stdout)


def qlines(server, *args, **kw):
    return [json.loads(line) for line in q(server, *args, **kw).stdout.decode().splitlines()]


def ops(server, since=0):
    return [e['op'] for e in server.requests('graphql')[since:]]


# ---- documents --------------------------------------------------------------------------------

def test_documents_validate(tmp_path):
    docs = composed_queries(tmp_path)  # as the client sends them

    def validate_docs(names, base_only):
        return run_validate([docs[n] for n in names], '--quiet', '--isolate',
                            *(['--base-only'] if base_only else []))

    p = validate_docs(BASE_DOCS, True)
    assert p.returncode == 0, p.stdout + p.stderr
    p = validate_docs(EXT_DOCS, False)
    assert p.returncode == 0, p.stdout + p.stderr
    # The extension documents really need the extension (else the base
    # route would do and the fallback would be dead weight).
    for name in EXT_DOCS:
        assert validate_docs([name], True).returncode == 1, name


# ---- run files --------------------------------------------------------------------------------

def test_run_files_listing(server):
    src = run_files()
    listed = qjson(server, 'files', RUN, '--per-page', '3')  # several pages
    by_name = {f['name']: f for f in listed}
    assert sorted(by_name) == sorted(src)
    for name, data in src.items():
        f = by_name[name]
        assert f['sizeBytes'] == len(data), name
        assert f['md5'] == b64md5(data), name
        assert f['updatedAt'] and f['url'] and f['directUrl'], name
    n = ops(server).count('RunFiles')
    assert n >= 4  # ceil(9 / 3) pages, at least


def test_file_exists_is_exact(server):
    for name in run_files():
        r = qjson(server, 'file-exists', RUN, name)
        assert r['exists'] is True and r['file']['name'] == name, name
    for name in ['a_b.txt', 'a%.txt', 'a%', '%', '_', 'config', 'config.yam', 'CONFIG.YAML',
                 'back\\\\slash.txt', 'back_slash.txt', 'missing/file']:
        r = qjson(server, 'file-exists', RUN, name)
        assert r == {'name': name, 'exists': False}, name
    p = q(server, 'file-exists', 'alice/files-proj/nosuchrun', 'config.yaml', ok=False)
    assert p.returncode == 1 and b'ENOENT' in p.stderr


def test_download_whole_and_ranges(server, tmp_path):
    src = run_files()
    for name, data in src.items():
        for via in ('direct', 'url'):
            out = q(server, 'download', RUN, name, '--via', via).stdout
            assert out == data, (name, via)
    blob = src['data/blob.bin']
    ranges = [(0, 0), (0, 99), (1, 1), (12345, 67890), (len(blob) - 10, len(blob) - 1),
              (len(blob) - 10, len(blob) + 1000), (299990, None), (5, None)]
    for a, b in ranges:
        arg = '%d-%s' % (a, '' if b is None else b)
        for via in ('direct', 'url'):
            out = q(server, 'download', RUN, 'data/blob.bin', '--range', arg, '--via', via).stdout
            assert out == blob[a:None if b is None else b + 1], (arg, via)
    # At or past the end: nothing, and no error.
    assert q(server, 'download', RUN, 'data/blob.bin', '--range', '%d-' % len(blob)).stdout == b''
    assert q(server, 'download', RUN, 'empty.txt', '--range', '0-10').stdout == b''
    target = tmp_path / 'out.bin'
    q(server, 'download', RUN, 'data/blob.bin', '-o', str(target))
    assert target.read_bytes() == blob
    p = q(server, 'download', RUN, 'nope.bin', ok=False)
    assert p.returncode == 1 and b'ENOENT' in p.stderr


class ExpiredStorage:
    """A 'storage' host where every pre-signed URL has expired (403)."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.server.hits.append(self.headers.get('Authorization'))
                self.send_response(403)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.httpd.hits = []
        self.url = 'http://127.0.0.1:%d/bucket/obj?X-Expires=1' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_expired_url_is_refreshed_once(server):
    blob = run_files()['data/blob.bin']
    store = ExpiredStorage()
    try:
        before = len(server.requests('graphql'))
        out = q(server, 'download', RUN, 'data/blob.bin', '--url', store.url,
                '--range', '100-199').stdout
        assert out == blob[100:200]
        assert store.httpd.hits == [None]  # one try, and no key sent there
        assert ops(server, before).count('RunFiles') == 1  # one fresh URL
        data = q(server, 'artifact-get', 'alice/arts/mixed:v1', 'dir/blob.bin', '--url',
                 store.url).stdout
        assert b64md5(data) == b64md5(open(os.path.join(server.data_dir, 'blob.bin'),
                                           'rb').read())
        assert store.httpd.hits == [None, None]
    finally:
        store.close()


# ---- history, events, logs ---------------------------------------------------------------------

def corpus_runs_with(name):
    out = []
    for f in sorted(glob.glob(os.path.join(CORPUS, 'runs', '*', '*', name)) +
                    glob.glob(os.path.join(CORPUS, 'runs', '*', '*', 'files', name))):
        rel = os.path.relpath(f, os.path.join(CORPUS, 'runs')).split(os.sep)
        m = re.search(r'-([a-z0-9]+)$', rel[1])
        if m:
            out.append(('corpus/%s/%s' % (rel[0], m.group(1)), f))
    return out


def source_rows(path):
    with open(path, encoding='utf-8', newline='') as f:
        return [line.rstrip('\r') for line in f.read().split('\n') if line.strip()]


def parse_ext(text):
    return json.loads(text, parse_constant=lambda c: {'NaN': 'NaN', 'Infinity': 'Inf',
                                                     '-Infinity': '-Inf'}[c])


def step_of(row, i):
    s = row.get('_step')
    return s if isinstance(s, int) else i


def test_history_scan_every_row(server):
    runs = corpus_runs_with('wandb-history.jsonl')
    assert len(runs) >= 10
    total = 0
    for path, f in runs:
        src = [parse_ext(t) for t in source_rows(f)]
        want = sorted((json.dumps(r, sort_keys=True) for r in src))
        for page in ([], ['--page', '7']):
            got = [parse_ext(t) for t in q(server, 'history', path, *page).stdout.decode()
                   .splitlines()]
            assert sorted(json.dumps(r, sort_keys=True) for r in got) == want, (path, page)
            steps = [step_of(r, i) for i, r in enumerate(got)]
            assert steps == sorted(steps), path  # windows come in step order
        total += len(src)
    assert total > 5000


def test_history_windows_and_gaps(server):
    def rows(*args):
        return q(server, 'history', RUN, *args).stdout.decode().splitlines()

    before = len(server.requests('graphql'))
    assert rows('--page', '100') == GAPPED_ROWS  # verbatim, in step order
    windows = ops(server, before).count('RunHistoryWindow')
    assert windows == -(-(GAPPED_STEPS[-1] + 1) // 100)  # empty windows did not stop it
    assert rows() == GAPPED_ROWS
    assert rows('--min-step', '40', '--max-step', '401', '--page', '7') == GAPPED_ROWS[3:6]
    assert rows('--min-step', '2000') == GAPPED_ROWS[-1:]
    assert rows('--min-step', '2001') == []
    path, f = next((p, f) for p, f in corpus_runs_with('wandb-history.jsonl')
                   if len(source_rows(f)) > 2000)
    src = [parse_ext(t) for t in source_rows(f)]
    steps = sorted(step_of(r, i) for i, r in enumerate(src))
    lo, hi = steps[100], steps[700]
    got = [parse_ext(t) for t in q(server, 'history', path, '--min-step', str(lo),
                                    '--max-step', str(hi), '--page', '64').stdout
           .decode().splitlines()]
    assert sorted(step_of(r, 0) for r in got) == [s for s in steps if lo <= s < hi]
    sampled = q(server, 'history', path, '--samples', '50').stdout.decode().splitlines()
    assert 0 < len(sampled) <= 50
    assert all(parse_ext(t) in src for t in sampled)
    p = q(server, 'history', 'corpus/nope/abc', ok=False)
    assert p.returncode == 1 and b'ENOENT' in p.stderr


def test_events(server):
    checked = 0
    for path, f in corpus_runs_with('wandb-events.jsonl')[:6]:
        src = [parse_ext(t) for t in source_rows(f)]
        got = [parse_ext(t) for t in q(server, 'events', path, '--samples', '100000').stdout
               .decode().splitlines()]
        assert got == src, path
        checked += 1
    assert checked >= 3


def test_logs_paged(server):
    lines = run_files()['output.log'].decode().split('\n')[:-1]
    before = len(server.requests('graphql'))
    got = qlines(server, 'logs', RUN, '--per-page', '20')
    assert [g['line'] for g in got] == lines
    assert [g['number'] for g in got] == list(range(len(lines)))
    assert ops(server, before).count('RunLogLines') == -(-len(lines) // 20)
    for path, f in corpus_runs_with('output.log')[:5]:
        with open(f, encoding='utf-8', newline='') as fh:
            src = fh.read().split('\n')
        if src and src[-1] == '':
            src.pop()
        got = qlines(server, 'logs', path)
        assert [g['line'] for g in got] == src, path


# ---- artifacts ----------------------------------------------------------------------------------

def test_types_collections_versions(server):
    types = qjson(server, 'artifact-types', 'alice/arts')
    assert sorted(t['name'] for t in types) == ['dataset', 'model', 'table']
    cols = qjson(server, 'collections', 'alice/arts', 'dataset')
    assert sorted(c['name'] for c in cols) == ['mixed', 'old']
    assert all(c['kind'] == 'sequence' and c['type'] == 'dataset' for c in cols)
    allc = qjson(server, 'collections', 'alice/arts', '--per-page', '1')
    assert sorted(c['name'] for c in allc) == ['mixed', 'navya', 'old', 'regional']
    vers = qjson(server, 'versions', 'alice/arts', 'dataset', 'mixed', '--per-page', '1')
    by = {v['version']: v for v in vers}
    assert sorted(by) == ['v0', 'v1']
    assert sorted(by['v1']['aliases']) == ['cleaned', 'latest'] and by['v0']['aliases'] == []
    assert by['v1']['metadata'] == {'rows': 2} and by['v1']['fileCount'] == 5
    mem = qjson(server, 'versions', 'alice/arts', 'mixed', '--memberships')
    assert sorted((v['version'], sorted(v['aliases'])) for v in mem) == \
        sorted((v['version'], sorted(v['aliases'])) for v in vers)
    p = q(server, 'versions', 'alice/arts', 'model', 'mixed', ok=False)
    assert p.returncode == 1


def test_artifact_by_alias_version_and_id(server):
    a = qjson(server, 'artifact', 'alice/arts/mixed:cleaned')
    assert (a['version'], a['collection'], a['isLink']) == ('v1', 'mixed', False)
    assert qjson(server, 'artifact', 'alice/arts/mixed:v1')['id'] == a['id']
    assert qjson(server, 'artifact', 'alice/arts/mixed')['id'] == a['id']  # :latest
    v0 = qjson(server, 'artifact', 'alice/arts/mixed:v0')
    assert v0['id'] != a['id'] and v0['aliases'] == []
    by_id = qjson(server, 'artifact', '--id', a['id'])
    assert (by_id['version'], sorted(by_id['aliases'])) == ('v1', ['cleaned', 'latest'])
    for bad in ('alice/arts/mixed:v9', 'alice/arts/mixed:nope', 'alice/arts/none:latest',
                'alice/noproj/mixed:v0'):
        p = q(server, 'artifact', bad, ok=False)
        assert p.returncode == 1 and b'ENOENT' in p.stderr, bad


def manifest_of(server, name):
    m = qjson(server, 'manifest', name)
    return m, {e['path']: e for e in m['entries']}


def test_manifest(server):
    m, entries = manifest_of(server, 'alice/arts/mixed:v1')
    assert (m['storageLayout'], m['storageRegion']) == ('V2', 'default')
    blob = open(os.path.join(server.data_dir, 'blob.bin'), 'rb').read()
    assert entries['README.md']['digest'] == b64md5(b'hello again\n')
    assert entries['dir/blob.bin']['digest'] == b64md5(blob)
    assert entries['dir/blob.bin']['size'] == len(blob)
    v0 = qjson(server, 'artifact', 'alice/arts/mixed:v0')
    # Unchanged content keeps the version that first stored it.
    assert entries['dir/blob.bin']['birthArtifactID'] == v0['id']
    assert entries['ext/s3.csv']['ref'] == 's3://bucket/key.csv'
    assert entries['linked/readme.md']['ref'].startswith('wandb-artifact://')
    old, oe = manifest_of(server, 'alice/arts/old:v0')
    assert old['storageLayout'] == 'V1' and all(e['birthArtifactID'] is None for e in oe.values())
    reg, _ = manifest_of(server, 'alice/arts/regional:v0')
    assert reg['storageRegion'] == 'coreweave-us'
    with open(os.path.join(CORPUS, 'manifests',
                           'Navya003__gnlp_protein__wandb_manifest__dc18abbb.json')) as f:
        real = json.load(f)['contents']
    _, ne = manifest_of(server, 'alice/arts/navya:v0')
    assert sorted(ne) == sorted(real)
    assert all(ne[p]['size'] == real[p]['size'] for p in real)


@pytest.mark.parametrize('name', ['alice/arts/mixed:v1', 'alice/arts/mixed:v0',
                                  'alice/arts/old:v0', 'alice/arts/regional:v0',
                                  'alice/arts/navya:v0'])
def test_artifact_bytes_match_digests(server, name):
    _, entries = manifest_of(server, name)
    stored = [e for e in entries.values() if not e['ref']]
    assert stored
    for e in stored:
        for via in ('fetch', 'storage'):
            data = q(server, 'artifact-get', name, e['path'], '--via', via).stdout
            assert b64md5(data) == e['digest'], (e['path'], via)
            assert len(data) == e['size']
        if e['size'] > 20:
            whole = q(server, 'artifact-get', name, e['path']).stdout
            for a, b in ((0, 9), (7, e['size'] - 1), (e['size'] - 3, e['size'] + 50)):
                part = q(server, 'artifact-get', name, e['path'], '--range', '%d-%d' % (a, b),
                         '--via', 'storage').stdout
                assert part == whole[a:b + 1], (e['path'], a, b)


def test_reference_entries(server):
    data = q(server, 'artifact-get', 'alice/arts/mixed:v1', 'linked/readme.md').stdout
    assert data == b'hello\n'  # the entry of mixed:v0 it points at
    assert q(server, 'artifact-get', 'alice/arts/mixed:v1', 'linked/readme.md',
             '--range', '1-3').stdout == b'ell'
    p = q(server, 'artifact-get', 'alice/arts/mixed:v1', 'ext/s3.csv', ok=False)
    assert p.returncode == 1 and b'EOPNOTSUPP' in p.stderr and b's3://bucket/key.csv' in p.stderr
    p = q(server, 'artifact-get', 'alice/arts/mixed:v1', 'not/there', ok=False)
    assert p.returncode == 1 and b'ENOENT' in p.stderr


def test_file_url_batches_across_pages(server):
    _, entries = manifest_of(server, 'alice/big/many:v0')
    assert len(entries) == 120
    before = len(server.requests('graphql'))
    urls = qjson(server, 'file-urls', 'alice/big/many:v0')
    assert sorted(u['path'] for u in urls) == sorted(entries)
    assert ops(server, before).count('ArtifactMembershipFileUrls') == -(-120 // PAGE_CAP)
    # The batch URLs are the bytes of the manifest's entries.
    for u in urls[::17]:
        data = q(server, 'artifact-get', 'alice/big/many:v0', u['path'], '--url', u['url']).stdout
        assert b64md5(data) == entries[u['path']]['digest']
    # References have no stored file, so no URL.
    mixed = qjson(server, 'file-urls', 'alice/arts/mixed:v1', '--per-page', '2')
    assert sorted(u['path'] for u in mixed) == ['README.md', 'dir/blob.bin', 'gen/x.bin']


# ---- organizations, registries, sweeps, reports -------------------------------------------------

def test_registries(server):
    assert qjson(server, 'orgs', 'team-x') == [{'name': 'Org Display', 'orgEntity': 'org-ent'}]
    for org in ('Org Display', 'org-ent'):
        regs = qjson(server, 'registries', org)
        assert [(r['name'], r['project'], r['orgEntity']) for r in regs] == \
            [('models', 'wandb-registry-models', 'org-ent')]
    cols = qjson(server, 'registry-collections', 'Org Display', 'models')
    assert [(c['name'], c['kind']) for c in cols] == [('best-mixed', 'portfolio')]
    assert qjson(server, 'registry-collections', 'org-ent', 'wandb-registry-models') == cols
    vers = qjson(server, 'registry-versions', 'Org Display', 'models', 'best-mixed')
    assert len(vers) == 1
    v = vers[0]
    src = qjson(server, 'artifact', 'alice/arts/mixed:v1')
    assert (v['version'], sorted(v['aliases']), v['isLink'], v['id']) == \
        ('v0', ['latest', 'prod'], True, src['id'])
    assert (v['entity'], v['project'], v['collection']) == \
        ('org-ent', 'wandb-registry-models', 'best-mixed')
    assert (v['sourceCollection'], v['sourceVersionIndex']) == ('mixed', 1)
    # A linked version reads through the registry path (V2 URLs name the
    # registry collection).
    linked = 'org-ent/wandb-registry-models/best-mixed:prod'
    assert qjson(server, 'artifact', linked)['id'] == src['id']
    _, entries = manifest_of(server, linked)
    for via in ('fetch', 'storage'):
        data = q(server, 'artifact-get', linked, 'gen/x.bin', '--via', via).stdout
        assert b64md5(data) == entries['gen/x.bin']['digest']
    p = q(server, 'registries', 'no-such-org', ok=False)
    assert p.returncode == 1 and b'ENOENT' in p.stderr


def test_sweeps_and_reports(server):
    sweeps = qjson(server, 'sweeps', 'gen/sweepy', '--per-page', '1')
    assert len(sweeps) == 2
    runs = qjson(server, 'runs', 'gen/sweepy')
    for s in sweeps:
        one = qjson(server, 'sweep', 'gen/sweepy/' + s['name'])
        assert one == s
        assert one['config'].startswith('method: ') and one['url'].endswith(
            '/gen/sweepy/sweeps/' + s['name'])
        members = qjson(server, 'sweep-runs', 'gen/sweepy/' + s['name'], '--per-page', '2')
        assert sorted(r['name'] for r in members) == \
            sorted(r['name'] for r in runs if r['sweep'] == s['name'])
        assert len(members) == s['runCount'] > 0
    log = [e for e in server.requests('graphql') if e['op'] == 'Runs']
    assert any('"sweep"' in (e['variables'] or {}).get('filters', '') for e in log)
    p = q(server, 'sweep', 'gen/sweepy/zzzzzzzz', ok=False)
    assert p.returncode == 1 and b'ENOENT' in p.stderr
    assert qjson(server, 'reports', 'gen/sweepy') == []  # this server keeps no reports


# ---- an older server ----------------------------------------------------------------------------

class OldServer:
    """A proxy in front of the test server that answers 400 with graphql-js's
    messages to every document the 2023 base schema rejects (what an older
    self-hosted W&B does), and passes everything else through unchanged."""

    def __init__(self, upstream):
        self.validator = subprocess.Popen(
            ['node', '-e', VALIDATOR_JS, NODE_MODULES, BASE_SCHEMA], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()
        self.rejected = []
        up = urllib.parse.urlsplit(upstream)
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def forward(self, body):
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ('host', 'connection', 'content-length')}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ('transfer-encoding', 'connection', 'content-length'):
                        self.send_header(k, v)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def do_GET(self):
                self.forward(None)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                errors = proxy.check(json.loads(body).get('query', ''))
                if not errors:
                    return self.forward(body)
                proxy.rejected.append(json.loads(body).get('operationName'))
                out = json.dumps({'errors': [{'message': m} for m in errors]}).encode()
                self.send_response(400)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.base_url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def check(self, query):
        with self.lock:
            self.validator.stdin.write(json.dumps({'query': query}) + '\n')
            self.validator.stdin.flush()
            return json.loads(self.validator.stdout.readline())

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.validator.stdin.close()
        self.validator.wait(timeout=10)


VALIDATOR_JS = r'''
const path = require('path'), fs = require('fs');
const G = require(path.join(process.argv[1], 'graphql'));
const schema = G.buildSchema(fs.readFileSync(process.argv[2], 'utf8'));
require('readline').createInterface({input: process.stdin}).on('line', (l) => {
    let errs;
    try { errs = G.validate(schema, G.parse(JSON.parse(l).query)).map((e) => e.message); }
    catch (e) { errs = [e.message]; }
    process.stdout.write(JSON.stringify(errs) + '\n');
});
'''


@pytest.fixture(scope='module')
def old(server):
    o = OldServer(server.base_url)
    yield o
    o.close()


def test_old_server_fallbacks(server, old):
    def oq(*args, **kw):
        return q(server, *args, base_url=old.base_url, **kw)

    def oj(*args):
        return json.loads(oq(*args).stdout)

    a = oj('artifact', 'alice/arts/mixed:cleaned')
    assert a == qjson(server, 'artifact', 'alice/arts/mixed:cleaned')
    assert 'ArtifactMembershipByName' in old.rejected
    urls = oj('file-urls', 'alice/big/many:v0')
    assert sorted(u['path'] for u in urls) == \
        sorted(u['path'] for u in qjson(server, 'file-urls', 'alice/big/many:v0'))
    assert 'ArtifactMembershipFileUrls' in old.rejected
    _, entries = manifest_of(server, 'alice/arts/mixed:v1')
    for path in ('dir/blob.bin', 'linked/readme.md'):
        want = entries[path]['digest'] if path == 'dir/blob.bin' else b64md5(b'hello\n')
        assert b64md5(oq('artifact-get', 'alice/arts/mixed:v1', path).stdout) == want
    # Run files and history use the base schema only.
    assert oq('download', RUN, 'data/blob.bin', '--range', '10-19').stdout == \
        run_files()['data/blob.bin'][10:20]
    path, f = corpus_runs_with('wandb-history.jsonl')[2]
    assert len(oq('history', path).stdout.decode().splitlines()) == len(source_rows(f))
    # Console log: only the tail, capped by the server's page size.
    lines = run_files()['output.log'].decode().split('\n')[:-1]
    p = oq('logs', RUN)
    got = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert [g['line'] for g in got] == lines[-PAGE_CAP:]
    assert [g['number'] for g in got] == list(range(len(lines) - PAGE_CAP, len(lines)))
    assert b'only the last lines' in p.stderr
    assert 'RunLogLines' in old.rejected
    # Organizations without orgEntity: names only; registries by org entity.
    assert oj('orgs', 'team-x') == [{'name': 'Org Display', 'orgEntity': None}]
    assert [r['name'] for r in oj('registries', 'org-ent')] == ['models']
    assert [c['name'] for c in oj('registry-collections', 'org-ent', 'models')] == ['best-mixed']
    assert len(oj('sweeps', 'gen/sweepy')) == 2
    assert 'GetSweeps' in old.rejected
    # Nothing the base schema accepts was rejected.
    assert not set(old.rejected) & set(BASE_DOCS)


def test_no_key_reached_storage(server):
    q(server, 'download', RUN, 'config.yaml', '--via', 'url')
    q(server, 'artifact-get', 'alice/arts/old:v0', 'a.txt', '--via', 'storage')
    # Everything this module read from storage so far, redirects included.
    assert check_storage_log(server) > 2


# ---- faults -------------------------------------------------------------------------------------

def test_storage_faults_still_exact(data_dir):
    env_extra = {'WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS': '0.05',
                 'WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS': '0.2'}
    blob = run_files()['data/blob.bin']
    with Server(data_dir, api_key=KEY, faults='500=0.3:scope=storage,reset=0.1:scope=storage',
                extra_args=['--page-cap', str(PAGE_CAP)]) as s:
        for via in ('direct', 'url'):
            assert q(s, 'download', RUN, 'data/blob.bin', '--via', via,
                     env_extra=env_extra).stdout == blob
            assert q(s, 'download', RUN, 'data/blob.bin', '--via', via, '--range',
                     '1000-250000', env_extra=env_extra).stdout == blob[1000:250001]
        for name in ('alice/arts/mixed:v1', 'alice/arts/old:v0'):
            _, entries = manifest_of(s, name)
            for e in entries.values():
                if e['ref']:
                    continue
                for via in ('fetch', 'storage'):
                    data = q(s, 'artifact-get', name, e['path'], '--via', via,
                             env_extra=env_extra).stdout
                    assert b64md5(data) == e['digest'], (name, e['path'], via)
        faults = 0
        with open(s.request_log + '.storage.jsonl', encoding='utf-8') as f:
            faults = sum(1 for line in f if '"fault"' in line)
        faults += sum(1 for e in s.requests() if e.get('fault'))
        assert faults > 0  # the faults really happened
        assert check_storage_log(s) > 0
