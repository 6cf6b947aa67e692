"""The artifact and registry tree through real mounts: types, versions in
version order, aliases as symlinks (and one moving after its lifetime),
<name>:v<N>.json and the version xattrs against the server's own answers,
files byte-identical to the stored blobs (MD5 against the manifest) for a
small, an empty and a V1-layout artifact, references (http, wandb-artifact,
s3/gs/file symlinks), registries (a version linked through the admin
endpoint appears), a run's logged/used links, mmap, hostile manifests
(refused whole with one log line, bounded memory), and a storage log
without Authorization headers."""
import base64
import ctypes
import errno
import hashlib
import http.server
import json
import mmap
import os
import threading
import time
import urllib.request

import pytest

from fsutil import data_dir, graphql_count
from harness import ROOT, Mount, Server, raw_graphql

ALICE_KEY = 'alice-' + 'a' * 34
SAMPLE_RUNS = os.path.join(ROOT, 'tests', 'server', 'sample-data', 'alice', 'mnist-demo')
ART = ('alice', 'p', 'artifacts')
EMPTY_MD5 = base64.b64encode(hashlib.md5(b'').digest()).decode()
REF_BYTES = b'bytes behind a plain http reference\n' * 100
MANIFEST_HEAD = ('{"version":1,"storagePolicy":"wandb-storage-policy-v1",'
                 '"storagePolicyConfig":{"storageLayout":"V2"},"contents":{')


def raw_manifest(*entries):
    """Manifest text from (path, json-text-of-entry) pairs, kept as written
    (duplicates and NUL escapes included)."""
    return MANIFEST_HEAD + ','.join('"%s":%s' % e for e in entries) + '}}'


def stored(size=0):
    return '{"digest":"%s","size":%d}' % (EMPTY_MD5, size)


HOSTILE = {
    'dotdot': raw_manifest(('ok.txt', stored()), ('../escape.txt', stored())),
    'absolute': raw_manifest(('/etc/passwd', stored())),
    'emptyseg': raw_manifest(('a//b', stored())),
    'nul': raw_manifest(('a\\u0000b', stored())),
    'dup': raw_manifest(('same.txt', stored()), ('same.txt', stored())),
    'filedir': raw_manifest(('a', stored()), ('a/b', stored())),
    'longname': raw_manifest(('x' * 300, stored())),
    'notjson': '{"version": 1, "contents": ',
}


class RefServer:
    """A plain HTTP server for http:// reference entries (as an object
    store's public URL would be); logs the headers it was sent."""

    def __init__(self):
        outer = self
        self.headers = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.headers.append(dict(self.headers))
                body = REF_BYTES
                rng = self.headers.get('Range')
                if rng and rng.startswith('bytes='):
                    a, _, b = rng[6:].partition('-')
                    a = int(a)
                    b = min(int(b) if b else len(body) - 1, len(body) - 1)
                    self.send_response(206)
                    self.send_header('Content-Range', 'bytes %d-%d/%d' % (a, b, len(body)))
                    body = body[a:b + 1]
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.send_header('ETag', '"refetag"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/ref.bin' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    """The server (alice, organization Acme with registry models), its data
    and an http reference server."""
    refs = RefServer()
    local = tmp_path_factory.mktemp('local') / 'local.txt'
    local.write_text('a local file behind a file:// reference\n')
    small_v0 = {'a.txt': 'hello\n', 'empty.txt': '', 'dir/b.bin': {'size': 300000, 'seed': 'b'},
                'dir/sub/c.txt': 'deep\n', 'with space & #.txt': 'odd name\n'}
    small_v1 = dict(small_v0, **{'a.txt': 'hello again\n', 'new.txt': 'new\n'})
    cfg = {
        'users': [{'username': 'alice', 'apiKey': ALICE_KEY, 'teams': ['team-a', 'registry']}],
        'teams': [{'name': 'team-a', 'organization': 'Acme'}, {'name': 'registry'}],
        'organizations': [{'name': 'Acme', 'orgEntity': 'acme-org', 'members': ['alice']},
                          {'name': 'Beta', 'orgEntity': 'beta-org', 'members': ['alice']}],
        'import': [{'entity': 'alice', 'project': 'p', 'layout': 'runs', 'path': SAMPLE_RUNS}],
        'artifacts': [
            {'entity': 'alice', 'project': 'p', 'type': 'dataset', 'name': 'small', 'versions': [
                {'files': small_v0, 'aliases': ['best'], 'metadata': {'rows': 3, 'nested': {'k': [1, 2]}},
                 'description': 'first cut', 'run': 'r7xk2m9q', 'usedBy': ['a1b2c3d4']},
                {'files': small_v1, 'aliases': ['candidate'], 'run': 'r7xk2m9q'}]},
            {'entity': 'alice', 'project': 'p', 'type': 'dataset', 'name': 'nothing',
             'versions': [{'files': {}}]},
            {'entity': 'alice', 'project': 'p', 'type': 'dataset', 'name': 'oldlayout',
             'versions': [{'files': {'x.txt': 'v1 layout\n', 'y/z.bin': {'size': 5000, 'seed': 'z'}},
                           'layout': 'V1'}]},
            {'entity': 'alice', 'project': 'p', 'type': 'model', 'name': 'refs', 'versions': [
                {'files': {
                    'web.bin': {'ref': refs.url, 'digest': 'refetag', 'size': len(REF_BYTES),
                                'extra': {'etag': '"refetag"'}},
                    'lent.txt': {'artifact': 'alice/p/small:v0', 'path': 'a.txt'},
                    'cloud/s3.tar': {'ref': 's3://bucket/key.tar', 'digest': 'abc123', 'size': 9,
                                     'extra': {'etag': '"abc123"', 'versionID': 'v7'}},
                    'cloud/gs.tar': {'ref': 'gs://bucket/obj.tar', 'digest': 'gsetag', 'size': 4},
                    'local.txt': {'ref': 'file://' + str(local), 'digest': 'lmd5'}},
                 'run': 'a1b2c3d4'}]},
            {'entity': 'registry', 'project': 'x', 'type': 'dataset', 'name': 'd',
             'versions': [{'files': {'f.txt': 'team file\n'}}]},
            {'entity': 'alice', 'project': 'h', 'type': 'dataset', 'name': 'many',
             'versions': [{'rawManifest': {'entries': 1000000}}]},
        ] + [{'entity': 'alice', 'project': 'h', 'type': 'dataset', 'name': name,
              'versions': [{'rawManifest': text}]} for name, text in HOSTILE.items()],
        'registries': [{'organization': 'Acme', 'name': 'models', 'collections': [
            {'name': 'prod-data', 'type': 'dataset',
             'links': [{'entity': 'alice', 'project': 'p', 'artifact': 'small:v0',
                        'aliases': ['production']}]}]},
            {'organization': 'Beta', 'name': 'other', 'collections': [
                {'name': 'refs', 'type': 'model',
                 'links': [{'entity': 'alice', 'project': 'p', 'artifact': 'refs:v0'}]}]}],
    }
    d = data_dir(tmp_path_factory, 'fs-artifacts', cfg)
    with Server(d, api_key=ALICE_KEY) as s:
        s.local = str(local)
        s.refs = refs
        yield s
    refs.stop()


@pytest.fixture(scope='module')
def mnt(env):
    with Mount(env) as m:
        yield m


# ---- the server's truth, read without our client ------------------------------------------------

MEMBERSHIP = ('query M($e: String!, $p: String!, $n: String!) { project(name: $p, entityName: $e) {'
              ' artifactCollectionMembership(name: $n) { versionIndex aliases { alias }'
              ' artifact { id digest size fileCount description metadata createdAt state'
              ' artifactType { name } currentManifest { file { directUrl } } } } } }')


def truth_version(server, ent, proj, name):
    m = raw_graphql(server, MEMBERSHIP, {'e': ent, 'p': proj, 'n': name})['project'][
        'artifactCollectionMembership']
    with urllib.request.urlopen(m['artifact']['currentManifest']['file']['directUrl'],
                                timeout=30) as r:
        m['manifest'] = json.loads(r.read())
    return m


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def walk_files(top):
    """{relative path: kind} of everything below top, not following links."""
    out = {}
    for dirpath, dirs, files in os.walk(top):
        for n in files + dirs:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, top)
            out[rel] = 'link' if os.path.islink(p) else 'dir' if os.path.isdir(p) else 'file'
    return out


def oserror(fn, *args, **kw):
    with pytest.raises(OSError) as ei:
        fn(*args, **kw)
    return ei.value.errno


def check_against_manifest(version_dir, manifest):
    """Every entry of the manifest is a file of the version directory with
    its size and MD5 (stored entries), and nothing else is there."""
    contents = manifest['contents']
    files = {p for p, k in walk_files(version_dir).items() if k != 'dir'}
    assert files == set(contents)
    for path, e in contents.items():
        if 'ref' in e:
            continue
        data = read(os.path.join(version_dir, path))
        assert len(data) == e['size'], path
        assert b64md5(data) == e['digest'], path
        assert os.getxattr(os.path.join(version_dir, path), 'user.wandb.digest') == \
            e['digest'].encode()


# ---- the tree --------------------------------------------------------------------------------

def test_types_versions_aliases_and_json(env, mnt):
    assert 'artifacts' in os.listdir(mnt.path('alice', 'p'))
    assert sorted(os.listdir(mnt.path(*ART))) == ['dataset', 'model']
    raw = os.listdir(mnt.path(*ART, 'dataset'))
    assert sorted(raw) == sorted([
        'small:v0', 'small:v0.json', 'small:v1', 'small:v1.json', 'small:best',
        'small:candidate', 'small:latest', 'nothing:v0', 'nothing:v0.json', 'nothing:latest',
        'oldlayout:v0', 'oldlayout:v0.json', 'oldlayout:latest'])
    # Versions come in version order (the server lists newest first).
    assert raw.index('small:v0') < raw.index('small:v1')
    for alias, target in (('best', 'v0'), ('candidate', 'v1'), ('latest', 'v1')):
        p = mnt.path(*ART, 'dataset', 'small:' + alias)
        assert os.path.islink(p)
        assert os.readlink(p) == 'small:' + target
        assert os.lstat(p).st_size == len('small:' + target)
        assert sorted(os.listdir(p)) == sorted(os.listdir(mnt.path(*ART, 'dataset',
                                                                   'small:' + target)))
    assert os.path.isdir(mnt.path(*ART, 'dataset', 'small:v1'))
    # The JSON file against the server's answer.
    t = truth_version(env, 'alice', 'p', 'small:v0')
    with open(mnt.path(*ART, 'dataset', 'small:v0.json')) as f:
        meta = json.load(f)
    assert list(meta) == ['name', 'entity', 'project', 'collection', 'type', 'version', 'aliases',
                          'id', 'digest', 'size', 'fileCount', 'state', 'createdAt', 'updatedAt',
                          'description', 'metadata', 'producedBy', 'source', 'url']
    a = t['artifact']
    assert (meta['name'], meta['entity'], meta['project'], meta['type']) == \
        ('small:v0', 'alice', 'p', 'dataset')
    assert (meta['id'], meta['digest'], meta['size'], meta['fileCount']) == \
        (a['id'], a['digest'], a['size'], a['fileCount'])
    assert meta['aliases'] == [x['alias'] for x in t['aliases'] if x['alias'] != 'v0']
    assert meta['metadata'] == json.loads(a['metadata'])
    assert meta['description'] == 'first cut'
    assert meta['producedBy'] == {'entity': 'alice', 'project': 'p', 'run': 'r7xk2m9q'}
    assert meta['source'] == {'entity': 'alice', 'project': 'p', 'collection': 'small',
                              'version': 'v0'}
    assert meta['url'] == env.base_url + '/alice/p/artifacts/dataset/small/v0'
    assert os.stat(mnt.path(*ART, 'dataset', 'small:v0.json')).st_mode & 0o777 == 0o444
    # The version directory holds the manifest's files and nothing else.
    assert sorted(walk_files(mnt.path(*ART, 'dataset', 'small:v0'))) == sorted([
        'a.txt', 'empty.txt', 'dir', 'dir/b.bin', 'dir/sub', 'dir/sub/c.txt', 'with space & #.txt'])
    # Absent names, without confusing versions, JSON files and aliases.
    for name in ('small:v9', 'small:v9.json', 'small:nope', 'small', 'ghost:v0', 'small:v01',
                 'refs:v0'):
        assert oserror(os.lstat, mnt.path(*ART, 'dataset', name)) == errno.ENOENT, name
    assert oserror(os.lstat, mnt.path(*ART, 'nosuchtype')) == errno.ENOENT
    assert oserror(os.lstat, mnt.path(*ART, 'dataset', 'small:v0', 'nope')) == errno.ENOENT


def test_files_equal_stored_blobs(env, mnt):
    """Small (V2), empty and V1-layout artifacts: every stored file's bytes
    have the manifest's size and MD5, and equal what storage serves."""
    for name in ('small:v0', 'small:v1', 'nothing:v0', 'oldlayout:v0'):
        t = truth_version(env, 'alice', 'p', name)
        check_against_manifest(mnt.path(*ART, 'dataset', name), t['manifest'])
    assert os.listdir(mnt.path(*ART, 'dataset', 'nothing:v0')) == []
    assert truth_version(env, 'alice', 'p', 'oldlayout:v0')['manifest'][
        'storagePolicyConfig']['storageLayout'] == 'V1'
    # One file against the blob storage serves (through the file's directUrl).
    q = ('query F($e: String!, $p: String!) { project(name: $p, entityName: $e) {'
         ' artifactCollection(name: "small") { artifactMembership(aliasName: "v0") {'
         ' files(names: ["dir/b.bin"]) { edges { node { directUrl } } } } } } }')
    url = raw_graphql(env, q, {'e': 'alice', 'p': 'p'})['project']['artifactCollection'][
        'artifactMembership']['files']['edges'][0]['node']['directUrl']
    with urllib.request.urlopen(url, timeout=30) as r:
        assert read(mnt.path(*ART, 'dataset', 'small:v0', 'dir', 'b.bin')) == r.read()
    st = os.stat(mnt.path(*ART, 'dataset', 'small:v0', 'dir', 'b.bin'))
    assert (st.st_size, st.st_mode & 0o777) == (300000, 0o444)


def test_mmap_reads(mnt):
    p = mnt.path(*ART, 'dataset', 'small:v0', 'dir', 'b.bin')
    want = read(p)
    with open(p, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        assert mm[:] == want
        assert mm[123456:123556] == want[123456:123556]
        assert mm[-10:] == want[-10:]


def test_version_xattrs(env, mnt):
    v = mnt.path(*ART, 'dataset', 'small:v0')
    a = truth_version(env, 'alice', 'p', 'small:v0')['artifact']
    names = os.listxattr(v)
    assert names == ['user.wandb.' + n for n in (
        'id', 'type', 'digest', 'size', 'fileCount', 'state', 'createdAt', 'description',
        'metadata', 'aliases', 'producedBy', 'url')]
    x = {n[len('user.wandb.'):]: os.getxattr(v, n).decode() for n in names}
    assert (x['id'], x['digest'], x['type'], x['state']) == \
        (a['id'], a['digest'], 'dataset', 'COMMITTED')
    assert (int(x['size']), int(x['fileCount'])) == (a['size'], a['fileCount'])
    assert json.loads(x['metadata']) == json.loads(a['metadata'])
    assert x['aliases'] == 'best' and x['producedBy'] == 'alice/p/r7xk2m9q'
    assert x['description'] == 'first cut'
    with open(v + '.json') as f:
        assert x['url'] == json.load(f)['url']
    # A name not there: ENODATA; a version without a description lacks it.
    assert oserror(os.getxattr, v, 'user.wandb.nope') == errno.ENODATA
    assert oserror(os.getxattr, v, 'user.other') == errno.ENODATA
    assert 'user.wandb.description' not in os.listxattr(mnt.path(*ART, 'dataset', 'small:v1'))
    # The size probe and ERANGE, as the syscalls see them.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    path, name = v.encode(), b'user.wandb.digest'
    assert libc.getxattr(path, name, None, 0) == len(a['digest'])
    buf = ctypes.create_string_buffer(4)
    assert libc.getxattr(path, name, buf, 4) == -1 and ctypes.get_errno() == errno.ERANGE
    want = sum(len(n) + 1 for n in names)
    assert libc.listxattr(path, None, 0) == want
    assert libc.listxattr(path, buf, 4) == -1 and ctypes.get_errno() == errno.ERANGE
    # Files have their entry's digest and size; plain directories nothing.
    f = os.path.join(v, 'a.txt')
    assert os.listxattr(f) == ['user.wandb.digest', 'user.wandb.size']
    assert os.getxattr(f, 'user.wandb.size') == b'6'
    assert os.listxattr(os.path.join(v, 'dir')) == []
    assert os.listxattr(mnt.path(*ART, 'dataset')) == []


def test_references(env, mnt):
    v = mnt.path(*ART, 'model', 'refs:v0')
    kinds = walk_files(v)
    assert kinds == {'web.bin': 'file', 'lent.txt': 'file', 'cloud': 'dir',
                     'cloud/s3.tar': 'link', 'cloud/gs.tar': 'link', 'local.txt': 'link'}
    # http(s): a plain GET of the URL, without the API key.
    assert read(os.path.join(v, 'web.bin')) == REF_BYTES
    assert os.stat(os.path.join(v, 'web.bin')).st_size == len(REF_BYTES)
    assert env.refs.headers and not any('Authorization' in h for h in env.refs.headers)
    # wandb-artifact://: the other artifact's entry, with its size.
    assert read(os.path.join(v, 'lent.txt')) == b'hello\n'
    assert os.stat(os.path.join(v, 'lent.txt')).st_size == 6
    # Cloud references: symlinks to their URI; digest and etag as
    # security.wandb.* attributes (Linux refuses user.* on symlinks).
    s3 = os.path.join(v, 'cloud', 's3.tar')
    assert os.readlink(s3) == 's3://bucket/key.tar'
    assert os.readlink(os.path.join(v, 'cloud', 'gs.tar')) == 'gs://bucket/obj.tar'
    assert os.listxattr(s3, follow_symlinks=False) == [
        'security.wandb.digest', 'security.wandb.size', 'security.wandb.ref',
        'security.wandb.etag', 'security.wandb.versionID']
    get = lambda n: os.getxattr(s3, 'security.wandb.' + n, follow_symlinks=False)  # noqa: E731
    assert (get('digest'), get('etag'), get('versionID'), get('ref'), get('size')) == \
        (b'abc123', b'"abc123"', b'v7', b's3://bucket/key.tar', b'9')
    assert oserror(os.stat, s3) == errno.ENOENT  # nothing behind s3:// locally
    # file://: a link to the local path, readable when the file is there.
    local = os.path.join(v, 'local.txt')
    assert os.readlink(local) == env.local
    assert read(local) == b'a local file behind a file:// reference\n'


def test_registry(env):
    with Mount(env, args=['--cache-ttl-alias=1', '--cache-ttl=1',
                          '--registry-org=Acme']) as m:
        assert 'registry' in os.listdir(m.mountpoint)
        assert os.listdir(m.path('registry')) == ['models']
        reg = m.path('registry', 'models')
        assert sorted(os.listdir(reg)) == ['prod-data:latest', 'prod-data:production',
                                           'prod-data:v0', 'prod-data:v0.json']
        assert os.readlink(os.path.join(reg, 'prod-data:production')) == 'prod-data:v0'
        t = truth_version(env, 'acme-org', 'wandb-registry-models', 'prod-data:v0')
        check_against_manifest(os.path.join(reg, 'prod-data:v0'), t['manifest'])
        with open(os.path.join(reg, 'prod-data:v0.json')) as f:
            meta = json.load(f)
        assert (meta['entity'], meta['project'], meta['collection'], meta['version']) == \
            ('acme-org', 'wandb-registry-models', 'prod-data', 'v0')
        assert meta['source'] == {'entity': 'alice', 'project': 'p', 'collection': 'small',
                                  'version': 'v0'}
        assert meta['url'].startswith(env.base_url + '/orgs/Acme/registry/models?selectionPath=')
        # A version linked now appears as v1 (and latest moves) within the
        # alias lifetime.
        admin(env, 'link-artifact', {
            'entity': 'alice', 'project': 'p', 'artifact': 'small:v1',
            'target': {'organization': 'Acme', 'registry': 'models', 'collection': 'prod-data'},
            'aliases': ['staging']})
        deadline = time.time() + 10
        while 'prod-data:v1' not in os.listdir(reg) and time.time() < deadline:
            time.sleep(0.3)
        assert os.readlink(os.path.join(reg, 'prod-data:staging')) == 'prod-data:v1'
        assert os.readlink(os.path.join(reg, 'prod-data:latest')) == 'prod-data:v1'
        assert read(os.path.join(reg, 'prod-data:v1', 'new.txt')) == b'new\n'


def test_registry_org_option(env):
    """The viewer is in two organizations: registry/ shows one, and the one
    --registry-org names (display or org entity name)."""
    with Mount(env) as m:
        # registry/ hides the team called "registry" ...
        assert os.listdir(m.mountpoint).count('registry') == 1
        assert os.listdir(m.path('registry')) in (['models'], ['other'])
    for org in ('Beta', 'beta-org'):
        with Mount(env, args=['--registry-org=' + org]) as m:
            assert os.listdir(m.path('registry')) == ['other']
            assert os.readlink(m.path('registry', 'other', 'refs:latest')) == 'refs:v0'
            assert read(m.path('registry', 'other', 'refs:v0', 'lent.txt')) == b'hello\n'
    # ... which is there when no organization is shown.
    with Mount(env, args=['--registry-org=Nope']) as m:
        assert os.listdir(m.path('registry')) == ['x']
        assert read(m.path('registry', 'x', 'artifacts', 'dataset', 'd:v0', 'f.txt')) == \
            b'team file\n'


def resident_pages(path):
    """(pages of the file in the page cache, pages) as mincore(2) sees them
    through a fresh open and mmap."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = (ctypes.c_ubyte * pages)()
        assert libc.mincore(addr, size, vec) == 0
        libc.munmap(addr, size)
        return sum(v & 1 for v in vec), pages
    finally:
        os.close(fd)


def test_page_cache_kept_across_opens(mnt):
    """A version's files keep the kernel's pages when opened again (the
    second epoch reads from memory)."""
    p = mnt.path(*ART, 'dataset', 'small:v1', 'dir', 'b.bin')
    read(p)
    resident, pages = resident_pages(p)
    assert pages > 1 and resident == pages


def test_run_logged_and_used_links(mnt):
    runs = mnt.path('alice', 'p', 'runs')
    arts = os.path.join(runs, 'r7xk2m9q', 'artifacts')
    assert sorted(os.listdir(arts)) == ['logged', 'used']
    assert sorted(os.listdir(os.path.join(arts, 'logged'))) == ['small:v0', 'small:v1']
    assert os.listdir(os.path.join(arts, 'used')) == []
    link = os.path.join(arts, 'logged', 'small:v1')
    assert os.readlink(link) == '../../../../artifacts/dataset/small:v1'
    assert os.path.realpath(link) == mnt.path(*ART, 'dataset', 'small:v1')
    assert read(os.path.join(link, 'new.txt')) == b'new\n'
    used = os.path.join(runs, 'a1b2c3d4', 'artifacts', 'used')
    assert os.listdir(used) == ['small:v0']
    assert read(os.path.join(used, 'small:v0', 'a.txt')) == b'hello\n'
    assert os.listdir(os.path.join(runs, 'a1b2c3d4', 'artifacts', 'logged')) == ['refs:v0']


def admin(server, route, body):
    req = urllib.request.Request(server.base_url + '/_admin/' + route,
                                 data=json.dumps(body).encode(), headers={
                                     'Content-Type': 'application/json',
                                     'Authorization': 'Basic ' + base64.b64encode(
                                         ('api:' + server.api_key).encode()).decode()})
    with urllib.request.urlopen(req, timeout=30) as resp:
        out = json.loads(resp.read())
    assert out['ok'], out
    return out


def test_alias_moves_after_its_lifetime(env):
    with Mount(env, args=['--cache-ttl-alias=1.5']) as m:
        d = m.path('alice', 'p', 'artifacts', 'dataset')
        assert os.readlink(os.path.join(d, 'small:best')) == 'small:v0'
        before = os.listdir(d)
        out = admin(env, 'log-artifact', {'entity': 'alice', 'project': 'p', 'type': 'dataset',
                                          'name': 'small', 'files': {'a.txt': 'third\n'},
                                          'aliases': ['best']})
        assert out['version'] == 'v2'
        # Within the lifetime the old answer stands ...
        assert os.readlink(os.path.join(d, 'small:best')) == 'small:v0'
        time.sleep(2)
        # ... after it, the alias has moved and the new version is listed.
        assert os.readlink(os.path.join(d, 'small:best')) == 'small:v2'
        assert os.readlink(os.path.join(d, 'small:latest')) == 'small:v2'
        assert set(os.listdir(d)) - set(before) == {'small:v2', 'small:v2.json'}
        assert read(os.path.join(d, 'small:best', 'a.txt')) == b'third\n'


def test_versions_cached_without_expiry(env):
    """With every lifetime short, a version's listing, JSON and files are
    still served from the cache: no second manifest or version request."""
    with Mount(env, args=['--cache-ttl=0.2', '--cache-ttl-alias=0.2']) as m:
        v = m.path(*ART, 'dataset', 'small:v0')
        sorted(walk_files(v))
        read(v + '.json')
        manifests = len([e for e in env.requests() if e.get('op') == 'FetchArtifactManifest'])
        versions = graphql_count(env, 'ArtifactMembershipByName')
        time.sleep(0.5)
        sorted(walk_files(v))
        read(v + '.json')
        os.listxattr(v)
        assert len([e for e in env.requests() if e.get('op') == 'FetchArtifactManifest']) == \
            manifests
        assert graphql_count(env, 'ArtifactMembershipByName') == versions


# ---- hostile manifests ------------------------------------------------------------------------

def vm_kib(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise AssertionError(field)


def test_hostile_manifests_refused_whole(env):
    with Mount(env) as m:
        d = m.path('alice', 'h', 'artifacts', 'dataset')
        assert sorted(n for n in os.listdir(d) if n.endswith(':v0')) == \
            sorted(n + ':v0' for n in list(HOSTILE) + ['many'])
        for name in HOSTILE:
            v = os.path.join(d, name + ':v0')
            # The version's metadata is there; its files are not shown.
            assert os.path.isdir(v)
            assert json.load(open(v + '.json'))['name'] == name + ':v0'
            for _ in range(2):
                assert oserror(os.listdir, v) == errno.EIO, name
            assert oserror(os.stat, os.path.join(v, 'ok.txt')) == errno.EIO
        # Nothing outside a version directory appeared.
        assert not os.path.exists(os.path.join(d, 'escape.txt'))
        assert not os.path.lexists(m.path('alice', 'h', 'artifacts', 'escape.txt'))
        # A million entries: refused before download (bounded memory).
        requests = len(env.requests())
        assert oserror(os.listdir, os.path.join(d, 'many:v0')) == errno.EFBIG
        assert oserror(os.listdir, os.path.join(d, 'many:v0')) == errno.EFBIG
        assert not [e for e in env.requests()[requests:] if e.get('op') == 'FetchArtifactManifest']
        assert vm_kib(m.proc.pid, 'VmHWM') < 300 * 1024
        err = m.unmount()
    lines = [ln for ln in err.splitlines() if 'refusing its manifest' in ln]
    # One line per version, however often it was read, naming the reason.
    assert len(lines) == len(HOSTILE), '\n'.join(lines)
    assert any('both a file and a directory' in ln for ln in lines)
    assert any('longer than 255 bytes' in ln for ln in lines)
    assert any('unsafe path' in ln for ln in lines)
    assert len([ln for ln in err.splitlines() if 'many:v0' in ln]) == 1


@pytest.mark.slow
def test_million_entries_with_room(env):
    """Given the memory, the million-entry version is a tree, and the mount
    stays within the half of --cache-max-bytes one manifest may take."""
    with Mount(env, args=['--cache-max-bytes=2G']) as m:
        v = m.path('alice', 'h', 'artifacts', 'dataset', 'many:v0')
        assert os.listdir(v) == ['f']
        for name in ('0000000', '0123456', '0999999'):
            assert os.stat(os.path.join(v, 'f', name)).st_size == 0
        assert oserror(os.stat, os.path.join(v, 'f', '1000000')) == errno.ENOENT
        assert vm_kib(m.proc.pid, 'VmHWM') < 1024 * 1024


def test_storage_never_sees_authorization(env, mnt):
    for name in ('small:v0', 'oldlayout:v0'):
        for p, kind in walk_files(mnt.path(*ART, 'dataset', name)).items():
            if kind == 'file':
                read(os.path.join(mnt.path(*ART, 'dataset', name), p))
    log = env.request_log + '.storage.jsonl'
    with open(log) as f:
        entries = [json.loads(ln) for ln in f if ln.strip()]
    assert entries
    assert all(e['auth'] == '' for e in entries), [e for e in entries if e['auth']]
