"""The artifact rows: streamed reads of a big file and of many small files
through the mount, against what people use today on the same storage URLs.

  big file, capped   cold `cat` of the big file with storage capped at
                     25 MB/s per connection, against `aria2c -x16 -s16` and
                     single-stream `curl` of its pre-signed URL
  big file           the same, uncapped, against `curl` to /dev/null
  small files        cold `tar c DIR | wc -c` of a directory of 10,000 files
                     of 16 KiB, against the SDK's pattern (list the file URLs
                     in pages of 5000, download with 32 workers, then read
                     the local copy) and `aria2c -j16 -i urls` (then the same
                     tar of its directory)
  fio randread       4 KiB random reads of the big file: bytes fetched from
                     storage (the storage log) against bytes read
  warm re-reads      the big file and the small files again, against reading
                     a local copy of them
  peak RSS           of every mount these rows used

Storage answers every request after a first-byte latency (the test server's
--storage-latency-ms, 20 ms like an object store); the rate cap is its
--storage-rate (nginx limit_rate, per connection). Each storage setting is a
server of its own, so this group starts its own servers and mounts (the
shared bench server has neither setting) and measures everything in
baselines(), after the shared mount is gone. Bytes are checked: every
reader must produce the blob's MD5 (the server's digest)."""
import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

from harness import Mount, Server, StorageLog, raw_graphql

from . import Disagreement
from .table import Measure, Row, fmt_seconds

ENTITY, PROJECT, TYPE = 'bench', 'artifacts', 'dataset'
STORAGE_LATENCY_MS = 20
CAPPED_RATE = 25000000          # bytes/s per connection
SDK_WORKERS = 32
FILE_URL_PAGE = 5000            # the SDK's batch of file URLs
FIO_SECONDS = 10
WARM_REPEAT = 3
RSS_TARGET_MIB = 200
FULL = {'big': 2 << 30, 'files': 10000, 'file_size': 16 << 10}
QUICK = {'big': 256 << 20, 'files': 1000, 'file_size': 16 << 10}

FILE_URLS = '''query GetArtifactMembershipFileUrls($entity: String!, $project: String!,
    $collection: String!, $alias: String!, $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) { artifactCollection(name: $collection) {
    artifactMembership(aliasName: $alias) { files(after: $cursor, first: $perPage) {
      pageInfo { __typename endCursor hasNextPage }
      edges { node { __typename name directUrl md5 } } } } } } }'''


def file_urls(server, name):
    """[(path, directUrl, md5 hex)] of every file of name:v0, as the SDK
    lists them before a download (pages of 5000 asked)."""
    out, cursor = [], None
    while True:
        files = raw_graphql(server, FILE_URLS, {
            'entity': ENTITY, 'project': PROJECT, 'collection': name, 'alias': 'v0',
            'cursor': cursor, 'perPage': FILE_URL_PAGE})
        files = files['project']['artifactCollection']['artifactMembership']['files']
        out += [(e['node']['name'], e['node']['directUrl'],
                 base64.b64decode(e['node']['md5']).hex()) for e in files['edges']]
        if not files['pageInfo']['hasNextPage']:
            return out
        cursor = files['pageInfo']['endCursor']


def _timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _sh(command, cwd=None):
    proc = subprocess.run(command, shell=True, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=dict(os.environ, LC_ALL='C'))
    if proc.returncode:
        raise RuntimeError('%s exited %d: %s' % (command, proc.returncode,
                                                 proc.stderr.decode('utf-8', 'replace')[:500]))
    return proc.stdout


def _md5_file(path):
    md5 = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            md5.update(block)
    return md5.hexdigest()


def _tar_bytes(directory):
    """`tar c data | wc -c` in directory: (seconds, byte count)."""
    secs, out = _timed(lambda: _sh('tar c data | wc -c', cwd=directory))
    return secs, int(out)


def _vmhwm_kib(mount):
    with open('/proc/%d/status' % mount.proc.pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    raise RuntimeError('no VmHWM for pid %d' % mount.proc.pid)


def _m(seconds):
    """A Measure for ratios (these rows count storage, not API, requests)."""
    return Measure(seconds, 0)


def _s(seconds):
    return fmt_seconds(seconds) + ' s'



class ArtifactRows:
    name = 'artifacts'

    def __init__(self, quick=False):
        self.size = QUICK if quick else FULL
        self.notes = []
        self.rss_kib = 0
        self.work = None

    def generate(self):
        return []  # on servers of its own (see the module comment)

    def mount_args(self):
        return []

    def on_mount(self, bench, mount):
        pass  # everything runs in baselines(), on this group's own mounts

    # ---- servers ------------------------------------------------------------

    def _server(self, name, spec, extra):
        data = os.path.join(self.work, name)
        os.mkdir(data)
        with open(os.path.join(data, 'server.json'), 'w') as f:
            json.dump({'generate': [dict(spec, kind='artifact', entity=ENTITY, project=PROJECT,
                                         type=TYPE)]}, f)
        return Server(data, extra_args=['--storage-latency-ms', str(STORAGE_LATENCY_MS)] + extra)

    def _mount(self, server):
        m = Mount(server, timeout=60)
        self.mounts.append(m)
        return m

    def _unmount(self, m):
        self.rss_kib = max(self.rss_kib, _vmhwm_kib(m))
        m.unmount()
        self.mounts.remove(m)

    def baselines(self, bench):
        self.work = tempfile.mkdtemp(prefix='wbbench-art-')
        self.mounts = []
        servers = []
        try:
            print('[bench] artifacts: generating (a %d MiB file, %d files)'
                  % (self.size['big'] >> 20, self.size['files']), flush=True)
            capped = self._server('capped', {'name': 'big', 'files': 1, 'fileSize': 1,
                                             'bigFile': self.size['big'], 'seed': 21},
                                  ['--storage-rate', str(CAPPED_RATE)])
            servers.append(capped)
            free = self._server('free', {'name': 'big', 'files': self.size['files'],
                                         'fileSize': self.size['file_size'],
                                         'bigFile': self.size['big'], 'seed': 22}, [])
            servers.append(free)
            rows = [self._capped_row(capped)]
            rows += self._free_rows(free)
            rss = Row('peak RSS of the mounts of the artifact rows')
            rss.cells['wandbfs cold'] = '%.0f MiB (VmHWM)' % (self.rss_kib / 1024)
            rss.target('≤ %d MiB' % RSS_TARGET_MIB, self.rss_kib <= RSS_TARGET_MIB * 1024)
            rows.append(rss)
            return rows
        finally:
            for m in list(self.mounts):
                m.kill()
            for s in servers:
                s.stop()
            shutil.rmtree(self.work, ignore_errors=True)

    def _version_dir(self, mount):
        return mount.path(ENTITY, PROJECT, 'artifacts', TYPE, 'big:v0')

    # ---- the big file -------------------------------------------------------

    def _cat_cold(self, server, big_md5):
        """A fresh mount: (seconds of a cold cat, the mount)."""
        m = self._mount(server)
        path = os.path.join(self._version_dir(m), 'big.bin')
        os.stat(path)  # the version's listing is not what this row measures
        secs, _ = _timed(lambda: _sh('cat %s > /dev/null' % path))
        if _md5_file(path) != big_md5:
            raise Disagreement('the big file read through the mount has another MD5')
        return secs, m

    def _capped_row(self, server):
        big = [u for u in file_urls(server, 'big') if u[0] == 'big.bin'][0]
        print('[bench] artifacts: big file, capped', flush=True)
        ours, m = self._cat_cold(server, big[2])
        self._unmount(m)
        dl = os.path.join(self.work, 'aria-big')
        aria, _ = _timed(lambda: _sh('aria2c -q -x16 -s16 --file-allocation=none '
                                     '--allow-overwrite=true -d %s -o big.bin "%s"' % (dl, big[1])))
        if _md5_file(os.path.join(dl, 'big.bin')) != big[2]:
            raise Disagreement('aria2c fetched other bytes than the big file')
        shutil.rmtree(dl)
        curl, _ = _timed(lambda: _sh('curl -sS -f -o /dev/null "%s"' % big[1]))
        mib = self.size['big'] >> 20
        row = Row('%d MiB file, cold cat, storage %d MB/s per connection'
                  % (mib, CAPPED_RATE // 1000000))
        row.cells['wandbfs cold'] = _s(ours)
        row.cells['other baseline'] = 'aria2c -x16 -s16 %.1f s; curl %.1f s' % (aria, curl)
        r_aria = row.ratio('÷aria2c', _m(ours), _m(aria))
        r_curl = row.ratio('÷curl', _m(ours), _m(curl))
        row.target('≥ 0.9× aria2c throughput', r_aria <= 1 / 0.9)
        row.target('≥ 4× curl', r_curl <= 0.25)
        self.notes.append('big file, capped: %.0f MB/s through the mount, aria2c %.0f MB/s, curl '
                          '%.0f MB/s' % tuple(self.size['big'] / 1e6 / s for s in (ours, aria, curl)))
        return row

    # ---- uncapped: big file, small files, fio, warm ---------------------------

    def _free_rows(self, server):
        urls = file_urls(server, 'big')
        big = [u for u in urls if u[0] == 'big.bin'][0]
        small = sorted(u for u in urls if u[0].startswith('data/'))
        print('[bench] artifacts: big file, uncapped', flush=True)
        ours, m = self._cat_cold(server, big[2])
        curl, _ = _timed(lambda: _sh('curl -sS -f -o /dev/null "%s"' % big[1]))
        mib = self.size['big'] >> 20
        row_big = Row('%d MiB file, cold cat, uncapped' % mib)
        row_big.cells['wandbfs cold'] = _s(ours)
        row_big.cells['other baseline'] = 'curl %.2f s' % curl
        r = row_big.ratio('÷curl', _m(ours), _m(curl))
        row_big.target('≥ 0.8× curl', r <= 1 / 0.8)

        print('[bench] artifacts: big file, warm', flush=True)
        path = os.path.join(self._version_dir(m), 'big.bin')
        warm = self._median(lambda: _sh('cat %s > /dev/null' % path))
        local = os.path.join(self.work, 'local-big.bin')
        shutil.copyfile(path, local)
        local_s = self._median(lambda: _sh('cat %s > /dev/null' % local))
        os.unlink(local)
        row_warm = Row('%d MiB file, warm re-read' % mib)
        row_warm.cells['wandbfs warm'] = _s(warm)
        row_warm.cells['other baseline'] = 'local copy %.2f s' % local_s
        r = row_warm.ratio('÷local', _m(warm), _m(local_s))
        row_warm.target('≥ 0.8× local copy', r <= 1 / 0.8)

        rows = [row_big, row_warm] + self._small_rows(server, m, small)
        self._unmount(m)
        rows.append(self._fio_row(server, big))
        return rows

    def _median(self, fn):
        times = sorted(_timed(fn)[0] for _ in range(WARM_REPEAT))
        return times[len(times) // 2]

    def _small_rows(self, server, m, small):
        n, kib = len(small), self.size['file_size'] >> 10
        print('[bench] artifacts: %d small files' % n, flush=True)
        root = self._version_dir(m)
        os.listdir(root)  # the listing is not what this row measures
        ours, total = _timed(lambda: _tar_bytes(root)[1])
        self._check_tree(root, small)
        warm = self._median(lambda: _tar_bytes(root))
        sdk_dir = os.path.join(self.work, 'sdk')
        sdk, (sdk_total, local_warm) = _timed(lambda: self._sdk_pattern(server, sdk_dir))
        self._check_tree(sdk_dir, small)
        shutil.rmtree(sdk_dir)
        aria_dir = os.path.join(self.work, 'aria')
        aria, aria_total = _timed(lambda: self._aria_pattern(small, aria_dir))
        shutil.rmtree(aria_dir)
        if not total == sdk_total == aria_total:
            raise Disagreement('tar of the small files: %d bytes through the mount, %d from the '
                               'SDK pattern, %d from aria2c' % (total, sdk_total, aria_total))
        row = Row('%s files of %d KiB, cold tar c | wc -c' % ('{:,}'.format(n), kib))
        row.cells['wandbfs cold'] = _s(ours)
        row.cells['other baseline'] = 'SDK pattern %.1f s; aria2c -j16 %.1f s' % (sdk, aria)
        r_sdk = row.ratio('÷SDK', _m(ours), _m(sdk))
        r_aria = row.ratio('÷aria2c', _m(ours), _m(aria))
        row.target('≥ SDK pattern and aria2c', r_sdk <= 1 and r_aria <= 1)
        row_warm = Row('%s files of %d KiB, warm re-read' % ('{:,}'.format(n), kib))
        row_warm.cells['wandbfs warm'] = _s(warm)
        row_warm.cells['other baseline'] = 'local copy %.2f s' % local_warm
        r = row_warm.ratio('÷local', _m(warm), _m(local_warm))
        row_warm.target('≥ 0.8× local copy', r <= 1 / 0.8)
        self.notes.append('small files: the SDK pattern lists the file URLs (pages of %d), '
                          'downloads with %d threads, then tars the copy; aria2c -j16 gets the '
                          'same URL list and its copy is tarred too' % (FILE_URL_PAGE, SDK_WORKERS))
        return [row, row_warm]

    def _check_tree(self, root, small):
        for path, _, md5 in small[::max(1, len(small) // 200)]:
            if _md5_file(os.path.join(root, path)) != md5:
                raise Disagreement('%s under %s has another MD5 than the server\'s' % (path, root))

    def _sdk_pattern(self, server, dst):
        """The SDK's artifact.download(): URLs in batches, 32 downloaders,
        then the job reads the copy. (tar bytes, warm tar seconds)."""
        urls = [u for u in file_urls(server, 'big') if u[0].startswith('data/')]

        def get(item):
            path = os.path.join(dst, item[0])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with urllib.request.urlopen(item[1], timeout=300) as resp, open(path, 'wb') as f:
                shutil.copyfileobj(resp, f)

        with concurrent.futures.ThreadPoolExecutor(SDK_WORKERS) as pool:
            list(pool.map(get, urls))
        total = _tar_bytes(dst)[1]
        return total, self._median(lambda: _tar_bytes(dst))

    def _aria_pattern(self, small, dst):
        listing = os.path.join(self.work, 'aria-urls.txt')
        with open(listing, 'w') as f:
            for path, url, _ in small:
                f.write('%s\n  out=%s\n' % (url, path))
        _sh('aria2c -q -j16 --file-allocation=none --allow-overwrite=true '
            '--auto-file-renaming=false -d %s -i %s' % (dst, listing))
        return _tar_bytes(dst)[1]

    def _fio_row(self, server, big):
        print('[bench] artifacts: fio randread', flush=True)
        m = self._mount(server)
        path = os.path.join(self._version_dir(m), 'big.bin')
        os.stat(path)
        log = StorageLog(server)
        # fio splits --filename at ':' (big:v0) unless escaped.
        out = _sh("fio --name=randread --filename='%s' --size=%d --readonly --rw=randread "
                  "--bs=4k --ioengine=psync --time_based --runtime=%d --output-format=json"
                  % (path.replace(':', '\\:'), self.size['big'], FIO_SECONDS))
        fetched = sum(e['bytes'] for e in log.since_mark() if big[2] in e['uri'])
        self._unmount(m)
        read = json.loads(out)['jobs'][0]['read']['io_bytes']
        row = Row('fio randread 4 KiB on the %d MiB file, %d s' % (self.size['big'] >> 20,
                                                                   FIO_SECONDS))
        row.cells['wandbfs cold'] = '%.1f MiB read, %.1f MiB fetched' % (read / 2**20,
                                                                        fetched / 2**20)
        ratio = fetched / read if read else float('inf')
        row.ratios.append(('fetched÷read %.2f' % ratio, ratio))
        row.target('storage bytes ≤ 4× bytes read', ratio <= 4)
        return row
