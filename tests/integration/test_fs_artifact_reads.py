"""Streamed reads of artifact files through real mounts (the data plane):
a 1 GiB file and a 10,000-file version byte-identical to the stored blobs
(MD5 against the server's digests), the first bytes of the big file without
the rest, range and random reads that fetch little (counted in the storage
log), mmap, directory read-ahead, pre-signed URLs that expire in the middle
of a read, a version too big to list whole (URLs by name), storage faults
that never reach a reader as wrong bytes, and a storage log that never
sees an Authorization header.

The truth is the server's own: digests from its file listing, bytes of
ranges fetched straight from its storage URLs (after the mount's reads, so
they never count as the mount's)."""
import base64
import hashlib
import json
import mmap
import os
import random
import time
import urllib.request

import pytest

from fsutil import data_dir
from harness import Mount, Server, StorageLog, raw_graphql

ENT, PROJ, TYPE = 'reads', 'p', 'dataset'
BIG = 1 << 30
N_SMALL = 10000
SMALL = 4096
LATENCY_MS = 20  # like an object store's first byte

FILES_QUERY = '''query F($e: String!, $p: String!, $c: String!, $a: String!, $cur: String) {
  project(name: $p, entityName: $e) { artifactCollection(name: $c) {
    artifactMembership(aliasName: $a) { files(after: $cur, first: 1000) {
      pageInfo { endCursor hasNextPage }
      edges { node { name directUrl md5 sizeBytes } } } } } } }'''


def file_table(server, name, version='v0'):
    """path -> {url, md5 (hex), size} of every stored file of a version."""
    out, cur = {}, None
    while True:
        files = raw_graphql(server, FILES_QUERY, {'e': ENT, 'p': PROJ, 'c': name, 'a': version,
                                                  'cur': cur})
        files = files['project']['artifactCollection']['artifactMembership']['files']
        for e in files['edges']:
            n = e['node']
            out[n['name']] = {'url': n['directUrl'], 'size': n['sizeBytes'],
                              'md5': base64.b64decode(n['md5']).hex()}
        if not files['pageInfo']['hasNextPage']:
            return out
        cur = files['pageInfo']['endCursor']


def storage_range(url, start, length):
    """Bytes [start, start + length) straight from storage (the truth)."""
    req = urllib.request.Request(url, headers={'Range': 'bytes=%d-%d' % (start, start + length - 1)})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


def of_blob(entries, md5):
    return [e for e in entries if ('/md5/' + md5) in e['uri']]


@pytest.fixture(scope='module')
def srv(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'reads', {'generate': [
        {'kind': 'artifact', 'entity': ENT, 'project': PROJ, 'type': TYPE, 'name': 'big',
         'files': N_SMALL, 'fileSize': SMALL, 'bigFile': BIG, 'seed': 11}]})
    with Server(d, extra_args=['--storage-latency-ms', str(LATENCY_MS)]) as s:
        yield s


@pytest.fixture(scope='module')
def truth(srv):
    return file_table(srv, 'big')


def version_dir(mount, name='big', version='v0'):
    return mount.path(ENT, PROJ, 'artifacts', TYPE, '%s:%s' % (name, version))


def test_first_bytes_without_the_rest(srv, truth):
    big = truth['big.bin']
    with Mount(srv) as m:
        path = os.path.join(version_dir(m), 'big.bin')
        assert os.stat(path).st_size == BIG
        log = StorageLog(srv)
        t0 = time.monotonic()
        with open(path, 'rb') as f:
            head = f.read(4096)
        took = time.monotonic() - t0
        fetched = sum(e['bytes'] for e in of_blob(log.since_mark(), big['md5']))
    assert head == storage_range(big['url'], 0, 4096)
    # A window of a few MiB at most, not the gigabyte.
    assert 4096 <= fetched <= 8 << 20, fetched
    assert took < 10


def test_random_and_range_reads_fetch_little(srv, truth):
    big = truth['big.bin']
    rnd = random.Random(5)
    pages = [rnd.randrange(BIG // 4096) * 4096 for _ in range(150)]
    # Unaligned ranges across chunk boundaries (4 MiB multiples) too.
    spans = [(k * (4 << 20) - 777, 1 << 20 | 123) for k in (3, 50, 200)] + [(BIG - 1000, 5000)]
    with Mount(srv) as m:
        path = os.path.join(version_dir(m), 'big.bin')
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
            log = StorageLog(srv)
            got = [os.pread(fd, 4096, off) for off in pages]
            fetched = sum(e['bytes'] for e in of_blob(log.since_mark(), big['md5']))
            ranged = [os.pread(fd, n, off) for off, n in spans]
        finally:
            os.close(fd)
    read = 4096 * len(pages)
    assert fetched <= 4 * read, 'fetched %d bytes for %d read' % (fetched, read)
    for off, data in zip(pages, got):
        assert data == storage_range(big['url'], off, 4096), off
    for (off, n), data in zip(spans, ranged):
        n = min(n, BIG - off)  # the last one reads across the end
        assert len(data) == n
        assert data == storage_range(big['url'], off, n), off


def test_mmap_reads(srv, truth):
    big = truth['big.bin']
    rnd = random.Random(9)
    offsets = [rnd.randrange(BIG - 20000) for _ in range(40)] + [0, BIG - 10000]
    with Mount(srv) as m:
        with open(os.path.join(version_dir(m), 'big.bin'), 'rb') as f:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                assert len(mm) == BIG
                got = [mm[off:off + 10000] for off in offsets]
    for off, data in zip(offsets, got):
        assert data == storage_range(big['url'], off, 10000), off


@pytest.mark.slow
def test_big_file_byte_identical(srv, truth):
    big = truth['big.bin']
    with Mount(srv) as m:
        log = StorageLog(srv)
        md5 = hashlib.md5()
        with open(os.path.join(version_dir(m), 'big.bin'), 'rb') as f:
            while True:
                block = f.read(1 << 20)
                if not block:
                    break
                md5.update(block)
        fetched = sum(e['bytes'] for e in of_blob(log.since_mark(), big['md5']))
    assert md5.hexdigest() == big['md5']
    # Streamed once: no byte fetched twice, nothing beyond the file.
    assert BIG <= fetched <= BIG + (1 << 20), fetched


@pytest.mark.slow
def test_ten_thousand_files_in_listing_order(srv, truth):
    small = {p: t for p, t in truth.items() if p.startswith('data/')}
    assert len(small) == N_SMALL
    with Mount(srv) as m:
        root = version_dir(m)
        log = StorageLog(srv)
        t0 = time.monotonic()
        seen = {}
        for sub in os.listdir(os.path.join(root, 'data')):
            d = os.path.join(root, 'data', sub)
            for name in os.listdir(d):
                with open(os.path.join(d, name), 'rb') as f:
                    seen['data/%s/%s' % (sub, name)] = hashlib.md5(f.read()).hexdigest()
        took = time.monotonic() - t0
        entries = log.since_mark()
    assert seen == {p: t['md5'] for p, t in small.items()}
    # One GET per file: read ahead, never twice.
    gets = {}
    for e in entries:
        if '/md5/' in e['uri']:
            md5 = e['uri'].split('/md5/')[1].split('?')[0]
            gets[md5] = gets.get(md5, 0) + 1
    assert all(gets.get(t['md5'], 0) == 1 for t in small.values())
    # One after another, the files would take N x the storage latency;
    # read ahead in parallel, a fraction of it.
    assert took < N_SMALL * LATENCY_MS / 1000 / 4, took


def test_expired_urls_are_refreshed_mid_read(tmp_path_factory):
    size = 48 << 20
    d = data_dir(tmp_path_factory, 'expiring', {'generate': [
        {'kind': 'artifact', 'entity': ENT, 'project': PROJ, 'type': TYPE, 'name': 'exp',
         'files': 1, 'fileSize': 100, 'bigFile': size, 'seed': 3}]})
    with Server(d, extra_args=['--storage-url-ttl', '2']) as s:
        t = file_table(s, 'exp')['big.bin']
        with Mount(s) as m:
            md5 = hashlib.md5()
            with open(os.path.join(version_dir(m, 'exp'), 'big.bin'), 'rb') as f:
                md5.update(f.read(4 << 20))
                time.sleep(3)  # every URL handed out so far is expired now
                while True:
                    block = f.read(1 << 20)
                    if not block:
                        break
                    md5.update(block)
        statuses = [e['status'] for e in of_blob(StorageLog(s).all(), t['md5'])]
        url_batches = [e for e in s.requests('graphql') if e['op'] == 'ArtifactMembershipFileUrls']
    assert md5.hexdigest() == t['md5']
    assert 403 in statuses  # storage refused an expired URL ...
    assert statuses[-1] == 206  # ... and the read went on with a fresh one
    assert len(url_batches) >= 2


def test_storage_faults_never_reach_the_reader_as_wrong_bytes(tmp_path_factory):
    # Storage that resets, truncates and answers 503 now and then: every
    # read still returns the right bytes (retried, resumed), or fails whole.
    d = data_dir(tmp_path_factory, 'faulty', {'generate': [
        {'kind': 'artifact', 'entity': ENT, 'project': PROJ, 'type': TYPE, 'name': 'faulty',
         'files': 200, 'fileSize': 20000, 'bigFile': 64 << 20, 'seed': 8}]})
    with Server(d, faults='scope=storage,reset=0.05,truncate=0.05,503=0.05', extra_args=[
            '--seed', '3']) as s:
        truth = file_table(s, 'faulty')
        with Mount(s) as m:
            root = version_dir(m, 'faulty')
            got = {}
            for p in sorted(truth):
                with open(os.path.join(root, p), 'rb') as f:
                    got[p] = hashlib.md5(f.read()).hexdigest()
        faults = [e for e in StorageLog(s).all() if e.get('fault') or e['status'] >= 500]
    assert got == {p: t['md5'] for p, t in truth.items()}
    assert faults  # the faults did happen


def test_a_huge_version_gets_urls_by_name_in_batches(tmp_path_factory):
    # Past 20,000 stored files a version's URLs are not listed whole: the
    # ones a read needs come by name, a batch of the next 1000 at a time.
    n = 20500
    d = data_dir(tmp_path_factory, 'huge', {'generate': [
        {'kind': 'artifact', 'entity': ENT, 'project': PROJ, 'type': TYPE, 'name': 'huge',
         'files': n, 'fileSize': 64, 'seed': 5}]})
    with Server(d) as s:
        truth = file_table(s, 'huge')
        paths = sorted(truth)
        picks = [paths[0], paths[1], paths[12000], paths[n - 1]]
        before = len(s.requests('graphql'))
        with Mount(s) as m:
            got = {}
            for p in picks:
                with open(os.path.join(version_dir(m, 'huge'), p), 'rb') as f:
                    got[p] = hashlib.md5(f.read()).hexdigest()
        asked = [e for e in s.requests('graphql')[before:]
                 if e['op'] == 'ArtifactMembershipFileUrls']
    assert got == {p: truth[p]['md5'] for p in picks}
    names = [e['variables'].get('fileNames') for e in asked]
    assert all(names) and all(len(x) <= 1000 for x in names), [len(x or []) for x in names]
    # paths[1] came with paths[0]'s batch; the others each needed one.
    assert len(asked) == 3, [x[:1] for x in names]


def test_storage_never_sees_the_api_key(srv):
    entries = StorageLog(srv).all()
    assert entries
    assert all(e['auth'] == '' for e in entries)
