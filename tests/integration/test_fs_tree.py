"""wandbfs through real mounts: the tree as two different users see it, every
corpus run's config.json / summary.json / metadata.json against what
wandb.Api semantics give from the run's own files, exact sizes, EROFS on
every kind of write, errors (ENOENT, bad key, unreachable server), and the
ways of starting it (daemon, fstab form, options, log)."""
import errno
import json
import os
import socket
import subprocess
import time

import pytest

from fsutil import corpus_runs, data_dir, truth_runs
from harness import CORPUS, WANDBFS, Mount, Server, env_for, same

ALICE_KEY = 'alice-' + 'a' * 34
BOB_KEY = 'bob-' + 'b' * 36
RUNS = os.path.join(CORPUS, 'runs')


# ---- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def users(tmp_path_factory):
    """alice (member of team-a) and bob, each with a private project."""
    d = data_dir(tmp_path_factory, 'fs-users', {
        'users': [{'username': 'alice', 'apiKey': ALICE_KEY, 'teams': ['team-a']},
                  {'username': 'bob', 'apiKey': BOB_KEY}],
        'teams': [{'name': 'team-a'}],
        'import': [
            {'entity': 'alice', 'project': 'secret', 'layout': 'runs', 'access': 'PRIVATE',
             'path': os.path.join(RUNS, '13udha__connect-four-tensorflow')},
            {'entity': 'alice', 'project': 'open', 'layout': 'runs', 'access': 'PUBLIC',
             'path': os.path.join(RUNS, 'tatami-galaxy__speech-processing')},
            {'entity': 'team-a', 'project': 'shared', 'layout': 'runs',
             'path': os.path.join(RUNS, 'gd-zhang__NNG-Pytorch')},
            {'entity': 'bob', 'project': 'bobs-private', 'layout': 'runs', 'access': 'PRIVATE',
             'path': os.path.join(RUNS, 'Genei-Ltd__Siamese_BERT_blogpost')},
        ]})
    with Server(d, api_key=ALICE_KEY) as s:
        yield s


@pytest.fixture(scope='module')
def corpus_server(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'fs-corpus', {
        'import': [{'entity': 'corpus', 'path': RUNS, 'layout': 'project-per-dir'}]})
    with Server(d) as s:
        yield s


@pytest.fixture(scope='module')
def corpus_mount(corpus_server):
    with Mount(corpus_server) as m:
        yield m


def listdir(path):
    return sorted(os.listdir(path))


def oserror(fn, *args):
    """The errno fn raises (fails the test if it raises none)."""
    with pytest.raises(OSError) as ei:
        fn(*args)
    return ei.value.errno


# ---- the tree for two users ----------------------------------------------------------------------

def test_tree_as_alice_and_bob(users):
    assert os.path.isdir(os.path.join(RUNS, 'gd-zhang__NNG-Pytorch'))
    with Mount(users, api_key=ALICE_KEY) as a, Mount(users, api_key=BOB_KEY) as b:
        assert listdir(a.mountpoint) == ['alice', 'team-a']
        assert listdir(b.mountpoint) == ['bob']
        assert listdir(a.path('alice')) == ['open', 'secret']
        assert listdir(a.path('alice', 'secret')) == ['artifacts', 'project.json', 'runs']
        assert listdir(a.path('team-a')) == ['shared']
        secret_runs = listdir(a.path('alice', 'secret', 'runs'))
        assert len(secret_runs) == 4
        # bob sees alice's public project only, never her private one.
        assert listdir(b.path('alice')) == ['open']
        assert oserror(os.stat, b.path('alice', 'secret')) == errno.ENOENT
        assert oserror(os.listdir, b.path('alice', 'secret', 'runs')) == errno.ENOENT
        assert oserror(os.stat, b.path('alice', 'secret', 'runs', secret_runs[0],
                                       'config.json')) == errno.ENOENT
        assert oserror(os.listdir, b.path('team-a')) == errno.ENOENT
        # ... and the other way round.
        assert listdir(b.path('bob')) == ['bobs-private']
        assert oserror(os.stat, a.path('bob', 'bobs-private')) == errno.ENOENT
        # The same run, read by alice, is what the server holds.
        truth = truth_runs(users, 'alice', 'open')
        assert listdir(a.path('alice', 'open', 'runs')) == sorted(truth)
        for name, t in truth.items():
            for m in (a, b):
                with open(m.path('alice', 'open', 'runs', name, 'metadata.json')) as f:
                    meta = json.load(f)
                assert (meta['id'], meta['state']) == (name, t['state'])
        with open(a.path('alice', 'secret', 'project.json')) as f:
            proj = json.load(f)
        assert (proj['name'], proj['entity'], proj['access']) == ('secret', 'alice', 'PRIVATE')
        assert proj['url'].endswith('/alice/secret/workspace')
        assert proj['runCount'] == len(listdir(a.path('alice', 'secret', 'runs')))
        with open(a.path('alice', 'open', 'project.json')) as f:
            assert json.load(f)['runCount'] == len(truth)


# ---- every corpus run, content and sizes -------------------------------------------------------

def test_corpus_files_equal_wandb_api_semantics(corpus_server, corpus_mount):
    runs = corpus_runs()
    assert len(runs) == 67
    projects = sorted({r['project'] for r in runs})
    assert listdir(corpus_mount.path('corpus')) == projects
    for project in projects:
        want = sorted(r['id'] for r in runs if r['project'] == project)
        assert listdir(corpus_mount.path('corpus', project, 'runs')) == want, project
    states = {p: truth_runs(corpus_server, 'corpus', p) for p in projects}
    for r in runs:
        run_dir = corpus_mount.path('corpus', r['project'], 'runs', r['id'])
        where = '%s/%s' % (r['project'], r['dir'])
        assert listdir(run_dir) == ['artifacts', 'config.json', 'metadata.json',
                                    'summary.json'], where
        with open(os.path.join(run_dir, 'config.json'), encoding='utf-8') as f:
            assert same(json.load(f), r['config']), where
        with open(os.path.join(run_dir, 'summary.json'), encoding='utf-8') as f:
            assert same(json.load(f), r['summary']), where
        with open(os.path.join(run_dir, 'metadata.json'), encoding='utf-8') as f:
            meta = json.load(f)
        assert meta['id'] == r['id'], where
        assert meta['state'] == states[r['project']][r['id']]['state'], where
        assert meta['url'].endswith('/corpus/%s/runs/%s' % (r['project'], r['id'])), where


def test_exact_sizes_and_format(corpus_mount):
    checked = 0
    for root, dirs, files in os.walk(corpus_mount.mountpoint):
        for name in files:
            path = os.path.join(root, name)
            size = os.stat(path).st_size
            with open(path, 'rb') as f:
                data = f.read()
            assert size == len(data) and size > 0, path
            # One key per line, a trailing newline, no byte past it.
            assert data == b'{}\n' or (data.startswith(b'{\n  "') and
                                       data.endswith(b'\n}\n')), path
            checked += 1
    assert checked == 67 * 3 + 39  # three files per run, project.json per project


def test_grep_finds_key_value_lines(corpus_mount):
    runs = [r for r in corpus_runs() if isinstance(r['config'].get('lr'), float)]
    assert runs
    r = runs[0]
    line = '"lr": %s' % json.dumps(r['config']['lr'])
    out = subprocess.run(['grep', '-rlF', line, corpus_mount.path('corpus', r['project'])],
                         capture_output=True, text=True, check=True).stdout.split()
    assert corpus_mount.path('corpus', r['project'], 'runs', r['id'], 'config.json') in out


# ---- read-only ---------------------------------------------------------------------------------

def test_every_write_is_erofs(corpus_mount):
    """The daemon has no handler for any write: the kernel answers EROFS
    itself because the mount is read-only (a request reaching the daemon
    would get ENOSYS, and fail this test)."""
    run = corpus_runs()[0]
    d = corpus_mount.path('corpus', run['project'], 'runs', run['id'])
    f = os.path.join(d, 'config.json')
    before = open(f, 'rb').read()
    with open('/proc/self/mounts') as m:
        opts = [line.split()[3].split(',') for line in m
                if line.split()[1] == corpus_mount.mountpoint]
    assert opts and 'ro' in opts[0]
    assert oserror(os.open, f, os.O_WRONLY) == errno.EROFS
    assert oserror(os.open, f, os.O_RDWR) == errno.EROFS
    assert oserror(os.open, f, os.O_RDONLY | os.O_TRUNC) == errno.EROFS
    assert oserror(os.open, os.path.join(d, 'new.json'), os.O_CREAT | os.O_WRONLY) == errno.EROFS
    assert oserror(os.mkdir, os.path.join(d, 'sub')) == errno.EROFS
    assert oserror(os.unlink, f) == errno.EROFS
    assert oserror(os.rmdir, d) == errno.EROFS
    assert oserror(os.rename, f, os.path.join(d, 'x.json')) == errno.EROFS
    assert oserror(os.truncate, f, 0) == errno.EROFS
    assert oserror(os.chmod, f, 0o644) == errno.EROFS
    assert oserror(os.symlink, 'config.json', os.path.join(d, 'link')) == errno.EROFS
    assert oserror(os.utime, f, (0, 0)) == errno.EROFS
    assert oserror(os.chown, f, os.getuid(), os.getgid()) == errno.EROFS
    assert oserror(os.link, f, os.path.join(d, 'hard')) == errno.EROFS
    assert oserror(os.mknod, os.path.join(d, 'fifo'), 0o600 | 0o10000) == errno.EROFS
    assert oserror(os.setxattr, f, 'user.x', b'1') == errno.EROFS
    assert oserror(os.removexattr, f, 'user.x') == errno.EROFS
    assert open(f, 'rb').read() == before
    assert os.statvfs(corpus_mount.mountpoint).f_flag & os.ST_RDONLY


# ---- errors ----------------------------------------------------------------------------------------

def test_unknown_names_are_enoent(corpus_mount):
    project = corpus_runs()[0]['project']
    for parts in (('no-such-entity',), ('corpus', 'no-such-project'),
                  ('corpus', project, 'runs', 'nosuchrun'),
                  ('corpus', project, 'nosuchfile'),
                  ('corpus', project, 'runs', 'bad:id'),
                  ('corpus', project, 'project.json', 'x')):
        want = errno.ENOTDIR if 'project.json' in parts[:-1] else errno.ENOENT
        assert oserror(os.stat, corpus_mount.path(*parts)) == want, parts


def test_bad_key_fails_at_mount_with_one_line(users, tmp_path):
    mnt = tmp_path / 'mnt'
    mnt.mkdir()
    env = env_for(users, api_key='wrong-' + 'x' * 34)
    p = subprocess.run([WANDBFS, '-f', str(mnt)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and 'API key' in lines[0], p.stderr
    assert 'wrong-' not in p.stderr
    assert not os.path.ismount(mnt)
    env.pop('WANDB_API_KEY')
    env['HOME'] = str(tmp_path)
    p = subprocess.run([WANDBFS, '-f', str(mnt)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and 'no API key' in p.stderr


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Dead:
    """A 'server' nobody listens on."""
    def __init__(self):
        self.base_url = 'http://127.0.0.1:%d' % free_port()
        self.api_key = 'k' * 40


@pytest.mark.parametrize('how', ['refused', 'stalled'])
def test_unreachable_server_fails_within_deadline(how, tmp_path_factory):
    timeout = 2
    if how == 'refused':
        ctx, server = None, Dead()
    else:
        d = data_dir(tmp_path_factory, 'fs-stall', {})
        ctx = server = Server(d, faults='stall=1:ms=30000')
    try:
        t0 = time.time()
        with Mount(server, args=['--timeout=%d' % timeout]) as m:
            assert time.time() - t0 < 15, 'mount waited too long for the server'
            assert 'mounting anyway' in m.stderr()
            for target in (m.mountpoint, m.path('someone', 'proj', 'runs')):
                t0 = time.time()
                err = oserror(os.listdir, target)
                assert err in (errno.EIO, errno.ETIMEDOUT)
                assert time.time() - t0 < timeout + 5
    finally:
        if ctx:
            ctx.stop()


# ---- starting and stopping ---------------------------------------------------------------------------

def test_daemon_mount_unmounts_cleanly(users):
    with Mount(users, api_key=ALICE_KEY, daemon=True) as m:
        assert m.proc.wait(timeout=10) == 0 and m.daemon_pids()
        assert listdir(m.mountpoint) == ['alice', 'team-a']
    assert not m.daemon_pids()


def test_fstab_form_source_and_options(users):
    """mount -t fuse.wandbfs SOURCE MNT -o opts runs `wandbfs SOURCE MNT -o opts`:
    SOURCE may be the base URL, -o carries our options too."""
    env = env_for(users, api_key=ALICE_KEY)
    env.pop('WANDB_BASE_URL')
    with Mount(users, env=env, args=['-o', 'cache_ttl=5,negative_ttl=1,max_requests=4,ro'],
               source=users.base_url) as m:
        with open('/proc/mounts') as f:
            line = [l for l in f if ' %s ' % m.mountpoint in l][0].split()
        assert line[0] == users.base_url and line[2] == 'fuse.wandbfs'
        assert 'ro' in line[3].split(',')
        assert listdir(m.mountpoint) == ['alice', 'team-a']


def test_help_version_and_bad_options():
    p = subprocess.run([WANDBFS, '--help'], capture_output=True, text=True, check=True)
    assert len(p.stdout.splitlines()) <= 24 and '--cache-ttl' in p.stdout
    p = subprocess.run([WANDBFS, '--version'], capture_output=True, text=True, check=True)
    assert p.stdout.startswith('wandbfs ')
    for bad in (['--cache-max-bytes=lots', '/tmp'], ['--cache-ttl=-1', '/tmp'], [],
                ['a', 'b', 'c']):
        p = subprocess.run([WANDBFS] + bad, capture_output=True, text=True)
        assert p.returncode != 0 and p.stderr, bad


def test_log_file_has_requests_with_durations_never_the_key(users, tmp_path):
    log = tmp_path / 'wandbfs.log'
    with Mount(users, api_key=ALICE_KEY, args=['--log-file=%s' % log]) as m:
        listdir(m.path('alice', 'open', 'runs'))
    text = log.read_text()
    assert ALICE_KEY not in text
    lines = [l for l in text.splitlines() if ' api Runs alice/open' in l]
    assert lines and all(' ms' in l for l in lines), text
