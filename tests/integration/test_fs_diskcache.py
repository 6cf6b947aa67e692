"""The disk cache through real mounts, in the wandb SDK's cache layout
(WANDB_CACHE_DIR/artifacts/obj/md5/<2 hex>/<30 hex>): a file the SDK put
there is served with zero storage requests; a file read through the mount
lands there with the right bytes and modes (what the SDK looks up); files
identical across versions are stored and fetched once; a wrong-size file
under a final name is not trusted; two mounts sharing one cache; and
`wandbfs prefetch` over a version directory fills the cache so that a
later mount reads the whole version without storage requests. Storage
requests are counted in the test server's storage log."""
import hashlib
import json
import os
import stat
import subprocess
import threading
import time

import pytest

from fsutil import data_dir
from harness import WANDBFS, Mount, Server, env_for

ENT, PROJ = 'lab', 'arts'
MIB = 1 << 20


def gen_bytes(seed, size):
    """Deterministic bytes for inline (text) files."""
    out, i = [], 0
    while sum(map(len, out)) < size:
        out.append(hashlib.sha256(('%s-%d' % (seed, i)).encode()).hexdigest())
        i += 1
    return ''.join(out)[:size]


SMALL = gen_bytes('small', 70000)
SHARED = gen_bytes('shared', 120000)
OTHER = gen_bytes('other', 50000)

V0 = {'small.txt': SMALL, 'same/shared.txt': SHARED,
      'big.bin': {'size': 5 * MIB + 123, 'seed': 'big'},
      'nested/deeper/mid.bin': {'size': 300000, 'seed': 'mid'}}
V1 = {'small.txt': OTHER, 'same/shared.txt': SHARED, 'copy-of-shared.txt': SHARED}


@pytest.fixture(scope='module')
def srv(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'fs-diskcache', {
        'artifacts': [{'entity': ENT, 'project': PROJ, 'type': 'dataset', 'name': 'ds',
                       'versions': [{'files': V0}, {'files': V1}]}]})
    with Server(d) as s:
        yield s


def version_dir(m, v):
    return m.path(ENT, PROJ, 'artifacts', 'dataset', 'ds:v%d' % v)


def obj_path(cache, data):
    h = hashlib.md5(data).hexdigest()
    return os.path.join(cache, 'artifacts', 'obj', 'md5', h[:2], h[2:])


def storage_log(server):
    path = server.request_log + '.storage.jsonl'
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def blob_requests(server):
    """Storage and redirect requests for artifact file bytes (not
    manifests)."""
    n = len([e for e in storage_log(server) if '/artifacts/md5/' in e.get('uri', '')])
    return n + len(server.requests('artifacts'))


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def mount(srv, cache):
    """A mount whose disk cache is `cache`, found as the SDK finds it."""
    env = env_for(srv)
    env['WANDB_CACHE_DIR'] = cache
    return Mount(srv, env=env)


def tmp_files(cache):
    d = os.path.join(cache, 'artifacts', 'tmp')
    return os.listdir(d) if os.path.isdir(d) else []


def all_files(m, v):
    out = {}
    root = version_dir(m, v)
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = read(p)
    return out


def test_sdk_object_is_served_without_storage(srv, tmp_path):
    cache = str(tmp_path / 'cache')
    data = SMALL.encode()
    p = obj_path(cache, data)
    os.makedirs(os.path.dirname(p))       # as the SDK makes them (0777 & ~umask)
    with open(p, 'wb') as f:
        f.write(data)
    with mount(srv, cache) as m:
        before = blob_requests(srv)
        assert read(os.path.join(version_dir(m, 0), 'small.txt')) == data
        assert blob_requests(srv) == before


def test_read_lands_in_sdk_layout(srv, tmp_path):
    cache = str(tmp_path / 'cache')
    with mount(srv, cache) as m:
        got = {name: read(os.path.join(version_dir(m, 0), name))
               for name in ('small.txt', 'big.bin', 'nested/deeper/mid.bin')}
        assert got['small.txt'] == SMALL.encode()
        assert len(got['big.bin']) == 5 * MIB + 123
        for name, data in got.items():
            p = obj_path(cache, data)
            assert wait_for(lambda: os.path.exists(p)), name
            assert read(p) == data
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
            assert stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode) == 0o700
        for sub in ('', 'artifacts', 'artifacts/obj', 'artifacts/obj/md5', 'artifacts/tmp'):
            assert stat.S_IMODE(os.stat(os.path.join(cache, sub)).st_mode) == 0o700, sub
        assert wait_for(lambda: not tmp_files(cache))
    # A new mount on the same cache reads them from disk.
    with mount(srv, cache) as m:
        before = blob_requests(srv)
        for name, data in got.items():
            assert read(os.path.join(version_dir(m, 0), name)) == data
        assert blob_requests(srv) == before


def test_identical_files_stored_once(srv, tmp_path):
    cache = str(tmp_path / 'cache')
    data = SHARED.encode()
    with mount(srv, cache) as m:
        assert read(os.path.join(version_dir(m, 0), 'same/shared.txt')) == data
        assert wait_for(lambda: os.path.exists(obj_path(cache, data)))
        before = blob_requests(srv)
        assert read(os.path.join(version_dir(m, 1), 'same/shared.txt')) == data
        assert read(os.path.join(version_dir(m, 1), 'copy-of-shared.txt')) == data
        assert blob_requests(srv) == before
    # Content addressed: each object's name is the MD5 of its bytes (others
    # may be there: the mount reads ahead in the directory).
    objects = [os.path.join(d, f) for d, _s, fs in os.walk(os.path.join(cache, 'artifacts', 'obj'))
               for f in fs]
    assert obj_path(cache, data) in objects
    for p in objects:
        assert obj_path(cache, read(p)) == p


def test_wrong_size_object_is_not_trusted(srv, tmp_path):
    cache = str(tmp_path / 'cache')
    data = OTHER.encode()
    p = obj_path(cache, data)
    os.makedirs(os.path.dirname(p))
    with open(p, 'wb') as f:
        f.write(data[:1000])              # a truncated copy under the final name
    with mount(srv, cache) as m:
        assert read(os.path.join(version_dir(m, 1), 'small.txt')) == data
        assert wait_for(lambda: os.path.getsize(p) == len(data))
        assert read(p) == data


def test_two_mounts_share_one_cache(srv, tmp_path):
    cache = str(tmp_path / 'cache')
    with mount(srv, cache) as a, mount(srv, cache) as b:
        out = {}

        def reader(m, key):
            out[key] = read(os.path.join(version_dir(m, 0), 'big.bin'))

        threads = [threading.Thread(target=reader, args=(m, k)) for k, m in (('a', a), ('b', b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert out['a'] == out['b'] and len(out['a']) == 5 * MIB + 123
        p = obj_path(cache, out['a'])
        assert wait_for(lambda: os.path.exists(p))
        assert read(p) == out['a']
        assert wait_for(lambda: not tmp_files(cache))


def test_prefetch_fills_the_cache(srv, tmp_path):
    cache = str(tmp_path / 'cache')
    with mount(srv, cache) as m:
        r = subprocess.run([WANDBFS, 'prefetch', version_dir(m, 0)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith('wandbfs prefetch: 4 files, ')
        # The page cache of this mount and the disk cache: no more storage.
        before = blob_requests(srv)
        files = all_files(m, 0)
        assert blob_requests(srv) == before
        for name, data in files.items():
            assert wait_for(lambda: os.path.exists(obj_path(cache, data))), name
    with mount(srv, cache) as m:
        before = blob_requests(srv)
        assert all_files(m, 0) == files
        assert blob_requests(srv) == before
    assert files['small.txt'] == SMALL.encode()
    assert files['same/shared.txt'] == SHARED.encode()


def test_bound_evicts_least_recently_used(srv, tmp_path):
    """--cache-max-disk bounds the whole shared cache: objects the SDK left
    there count, and the least recently used go first."""
    cache = str(tmp_path / 'cache')
    now = time.time()
    placed = []
    for age in (3000, 2000, 1000):                    # oldest first
        data = os.urandom(400000)
        p = obj_path(cache, data)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data)
        os.utime(p, (now - age, now - age))
        placed.append(p)
    with Mount(srv, args=['--cache-dir=' + cache, '--cache-max-disk=1M']) as m:
        mine = [read(os.path.join(version_dir(m, 0), n)) for n in ('small.txt', 'nested/deeper/mid.bin')]
        for data in mine:
            assert wait_for(lambda: os.path.exists(obj_path(cache, data)))

        def total():
            return sum(os.path.getsize(os.path.join(d, f))
                       for d, _s, fs in os.walk(os.path.join(cache, 'artifacts', 'obj')) for f in fs)
        assert wait_for(lambda: total() <= 1 << 20), total()
        assert not os.path.exists(placed[0]) and not os.path.exists(placed[1])
        # 5 MiB is more than the whole bound: read, never cached.
        big = read(os.path.join(version_dir(m, 0), 'big.bin'))
        assert len(big) == 5 * MIB + 123
        time.sleep(0.5)
        assert not os.path.exists(obj_path(cache, big))
        assert total() <= 1 << 20


def test_options(srv, tmp_path, monkeypatch):
    env = env_for(srv)
    for args, msg in ((['--cache-max-disk=12Q'], "bad --cache-max-disk '12Q'"),
                      (['--cache-dir=/proc/no/such'], 'cannot use the disk cache /proc/no/such')):
        r = subprocess.run([WANDBFS, '-f', str(tmp_path)] + args, env=env, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 1 and msg in r.stderr, r.stderr
    # -o forms; 0 turns the disk cache off (the directory is not even made).
    off = str(tmp_path / 'off')
    with Mount(srv, args=['-o', 'cache_dir=%s,cache_max_disk=0' % off]) as m:
        assert read(os.path.join(version_dir(m, 0), 'small.txt')) == SMALL.encode()
        time.sleep(0.5)
        assert not os.path.exists(off)
    # A relative --cache-dir still works once the daemon has left for /.
    monkeypatch.chdir(tmp_path)
    with Mount(srv, args=['-o', 'cache_dir=rel,cache_max_disk=100M'], daemon=True) as m:
        data = read(os.path.join(version_dir(m, 0), 'small.txt'))
        assert wait_for(lambda: os.path.exists(obj_path(str(tmp_path / 'rel'), data)))
