"""Shared test harness: start the W&B-compatible test server, read its
request logs, mount wandbfs. Used by every pytest module in this folder."""
import base64
import glob
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.abspath(os.environ.get('WB_SHARED_DIR', os.path.join(ROOT, '..', 'shared')))
CORPUS = os.path.join(SHARED, 'corpus')
BUILD = os.path.abspath(os.environ.get('WB_BUILD_DIR', os.path.join(ROOT, 'build')))
SERVER = os.path.join(ROOT, 'tests', 'server', 'run')


class Server:
    """A running tests/server/run process. Use as a context manager."""

    def __init__(self, data_dir, api_key='k' * 40, latency_ms=None, faults=None,
                 extra_args=()):
        self.data_dir = data_dir
        self.api_key = api_key
        self.tmp = tempfile.mkdtemp(prefix='wbsrv-')
        self.request_log = os.path.join(self.tmp, 'requests.jsonl')
        args = [SERVER, '--data', data_dir, '--port', '0', '--api-key', api_key,
                '--request-log', self.request_log]
        if latency_ms is not None:
            args += ['--latency-ms', str(latency_ms)]
        if faults:
            args += ['--faults', faults]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.base_url = None
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                raise RuntimeError('test server exited before READY:\n' + err)
            if line.startswith('READY '):
                self.base_url = line.split()[1].strip()
                break
        if not self.base_url:
            self.stop()
            raise RuntimeError('test server did not print READY in time')

    def requests(self, kind=None):
        """Parsed request-log entries so far (optionally only one kind)."""
        out = []
        if os.path.exists(self.request_log):
            with open(self.request_log, encoding='utf-8') as f:
                for line in f:
                    line = line.strip()
                    if line:
                        e = json.loads(line)
                        if kind is None or e.get('kind') == kind:
                            out.append(e)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def env_for(server, api_key=None):
    """Environment for a client process talking to server (key via env,
    never argv)."""
    env = dict(os.environ)
    env['WANDB_BASE_URL'] = server.base_url
    env['WANDB_API_KEY'] = api_key if api_key is not None else server.api_key
    env.pop('NETRC', None)
    return env


WANDBFS = os.path.join(BUILD, 'fs', 'wandbfs')
SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                   'WARNING: ThreadSanitizer',
                   'runtime error:', 'SUMMARY: UndefinedBehaviorSanitizer')


class Mount:
    """The built wandbfs mounted on a fresh temporary directory, talking to
    server (key via env_for, never argv). Foreground (-f) by default, so the
    daemon is our child; daemon=True runs it as a user would (it forks and
    the parent exits once mounted). Use as a context manager: leaving it
    unmounts with `fusermount3 -u` and checks the daemon exited 0 without a
    sanitizer or leak report. source: the mount(8) form `wandbfs SOURCE
    MOUNTPOINT`. stderr goes to self.stderr_path."""

    def __init__(self, server, args=(), api_key=None, daemon=False, env=None,
                 source=None, timeout=30):
        self.tmp = tempfile.mkdtemp(prefix='wbmnt-')
        self.mountpoint = os.path.join(self.tmp, 'mnt')
        os.mkdir(self.mountpoint)
        self.stderr_path = os.path.join(self.tmp, 'stderr')
        self.daemon = daemon
        self.unmounted = False
        cmd = ([WANDBFS] + ([] if daemon else ['-f']) + ([source] if source else []) +
               [self.mountpoint] + list(args))
        self.env = dict(env) if env is not None else env_for(server, api_key)
        # Each mount its own disk cache unless the test shares one.
        self.env.setdefault('WANDB_CACHE_DIR', os.path.join(self.tmp, 'cache'))
        self._stderr = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, start_new_session=True)
        deadline = time.time() + timeout
        while not os.path.ismount(self.mountpoint):
            rc = self.proc.poll()
            if rc is not None and not (daemon and rc == 0):
                err = self.stderr()
                self._cleanup_dir()
                raise RuntimeError('wandbfs exited %d before mounting:\n%s' % (rc, err))
            if time.time() > deadline:
                err = self.stderr()
                self.kill()
                raise RuntimeError('wandbfs did not mount in time:\n' + err)
            time.sleep(0.02)

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)

    def stderr(self):
        with open(self.stderr_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def daemon_pids(self):
        """Pids of wandbfs processes serving this mount point."""
        pids = []
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    argv = f.read().split(b'\0')
            except OSError:
                continue
            if argv and argv[0] == WANDBFS.encode() and self.mountpoint.encode() in argv:
                pids.append(int(pid))
        return pids

    def unmount(self, timeout=20):
        """fusermount3 -u, then check the daemon's exit; returns stderr."""
        if self.unmounted:
            return self.stderr()
        self.unmounted = True
        pids = self.daemon_pids() if self.daemon else []
        subprocess.run(['fusermount3', '-u', self.mountpoint], check=True)
        if self.daemon:
            self.proc.wait(timeout=timeout)
            deadline = time.time() + timeout
            while self.daemon_pids() and time.time() < deadline:
                time.sleep(0.05)
            assert not self.daemon_pids(), 'daemon still running after unmount'
            assert pids, 'no daemon process was found while mounted'
        else:
            rc = self.proc.wait(timeout=timeout)
            assert rc == 0, 'wandbfs exited %d:\n%s' % (rc, self.stderr())
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            assert mark not in err, 'sanitizer report from wandbfs:\n' + err
        self._cleanup_dir()
        return err

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in self.daemon_pids():
            os.kill(pid, signal.SIGKILL)
        subprocess.run(['fusermount3', '-u', '-z', self.mountpoint],
                       stderr=subprocess.DEVNULL, check=False)
        self._cleanup_dir()

    def _cleanup_dir(self):
        self._stderr.close()
        if not os.path.ismount(self.mountpoint):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if self.unmounted:
            return
        if exc_type is None:
            self.unmount()
        else:
            try:
                self.unmount()
            except Exception:
                self.kill()


# ---- GraphQL documents as the client sends them ----------------------------

QUERIES = os.path.join(ROOT, 'client', 'queries')
VALIDATE = os.path.join(SHARED, 'wandb-schema', 'validate.mjs')
GRAPHQL_MODULES = os.environ.get('GRAPHQL_MODULE_DIR',
                                 os.path.join(ROOT, 'tests', 'server', 'node_modules'))


def query_documents():
    """Paths of the operation files, client/queries/<Operation>.graphql."""
    return sorted(glob.glob(os.path.join(QUERIES, '*.graphql')))


def query_fragments():
    """Paths of the fragment files, client/queries/fragments/<Name>.graphql."""
    return sorted(glob.glob(os.path.join(QUERIES, 'fragments', '*.graphql')))


def embed_compose(out_dir, files):
    """Run client/queries/embed.py --compose on files (operations and
    fragments): each operation's complete document goes to out_dir."""
    return subprocess.run([sys.executable, os.path.join(QUERIES, 'embed.py'), '--compose',
                           str(out_dir), *files],
                          capture_output=True, text=True, timeout=60)


def composed_queries(out_dir):
    """{operation name: path} of every document as the client embeds it
    (with the fragments it spreads), written to out_dir."""
    proc = embed_compose(out_dir, query_documents() + query_fragments())
    assert proc.returncode == 0, 'embed.py --compose failed:\n' + proc.stderr
    return {os.path.basename(f)[:-len('.graphql')]: os.path.join(str(out_dir),
                                                                 os.path.basename(f))
            for f in query_documents()}


def run_validate(files, *opts):
    """validate.mjs opts files, with graphql-js from tests/server."""
    env = dict(os.environ, GRAPHQL_MODULE_DIR=GRAPHQL_MODULES)
    return subprocess.run(['node', VALIDATE, *opts, *files],
                          capture_output=True, text=True, env=env, timeout=120)


# ---- comparing JSON --------------------------------------------------------


def same(a, b):
    """Equality of parsed JSON: NaN equal to NaN, key order and int vs float
    told apart."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def unwrap(wrapped):
    """wandb.Api's run.config, in Python: the server stores each key as
    {"desc": ..., "value": v}; the SDK gives v, and leaves out the _wandb and
    wandb_version keys it writes for itself."""
    return {k: (v['value'] if isinstance(v, dict) and 'value' in v else v)
            for k, v in (wrapped or {}).items() if k not in ('_wandb', 'wandb_version')}


# ---- the server's answers, read without our client (the independent truth) --


def raw_graphql(server, query, variables, api_key=None):
    """data of a GraphQL request sent straight to server; asserts no errors."""
    body = json.dumps({'query': query, 'variables': variables}).encode()
    key = api_key or server.api_key
    req = urllib.request.Request(server.base_url + '/graphql', data=body, headers={
        'Content-Type': 'application/json',
        'Authorization': 'Basic ' + base64.b64encode(('api:' + key).encode()).decode()})
    with urllib.request.urlopen(req, timeout=60) as resp:
        doc = json.loads(resp.read())
    assert not doc.get('errors'), doc
    return doc['data']


def raw_runs(server, entity, project, fields):
    """Every run node of a project with the given fields (a selection, e.g.
    'name state config'), in pages of 1000."""
    query = ('query T($e: String!, $p: String!, $c: String) { project(name: $p, entityName: $e) {'
             ' runs(first: 1000, after: $c) { edges { node { %s } }'
             ' pageInfo { endCursor hasNextPage } } } }' % fields)
    cursor = None
    while True:
        runs = raw_graphql(server, query, {'e': entity, 'p': project, 'c': cursor})['project']['runs']
        for e in runs['edges']:
            yield e['node']
        if not runs['pageInfo']['hasNextPage']:
            return
        cursor = runs['pageInfo']['endCursor']


class StorageLog:
    """The server's storage (nginx) log: every entry, or those since a mark
    (nginx writes a line when a request is done, hence the settle)."""

    def __init__(self, server):
        self.path = server.request_log + '.storage.jsonl'
        self.mark()

    def mark(self):
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since_mark(self, settle=0.5):
        time.sleep(settle)
        return self._read(self.offset)

    def all(self):
        return self._read(0)

    def _read(self, offset):
        if not os.path.exists(self.path):
            return []
        with open(self.path, 'rb') as f:
            f.seek(offset)
            return [json.loads(line) for line in f.read().splitlines() if line.strip()]
