"""`wandbfs prefetch PATH...` through a real mount: it reads every regular
file of the subtree (symlinks not followed) and says so in one summary
line; a progress bar only on a terminal; clear errors and a non-zero exit
for a path outside any wandbfs mount, a missing path, bad options and a
file that cannot be read (named on stderr, counted as failed)."""
import os
import pty
import re
import subprocess

import pytest

from fsutil import data_dir
from harness import WANDBFS, Mount, Server

ENT, PROJ = 'lab', 'warm'
SUMMARY = re.compile(r'^wandbfs prefetch: (\d+) files, ([\d.]+ [KMGT]?i?B) in [\d.]+ s '
                     r'\([\d.]+ [KMGT]?i?B/s\)(; (\d+) failed)?\n$')


@pytest.fixture(scope='module')
def srv(tmp_path_factory):
    d = data_dir(tmp_path_factory, 'fs-prefetch', {
        'generate': [{'kind': 'runs', 'entity': ENT, 'project': PROJ, 'count': 6, 'seed': 5}],
        # An http reference nobody answers: listed with its size, unreadable.
        'artifacts': [{'entity': ENT, 'project': 'broken', 'type': 'dataset', 'name': 'broken',
                       'versions': [{'files': {'ok.txt': 'fine\n',
                                               'gone.bin': {'ref': 'http://127.0.0.1:9/gone.bin',
                                                            'size': 100}}}]}]})
    with Server(d) as s:
        yield s


def prefetch(*args, **kw):
    return subprocess.run([WANDBFS, 'prefetch'] + list(args), capture_output=True, text=True,
                          timeout=120, **kw)


def regular_files(root):
    """(count, bytes read) of the regular files under root, read by Python
    without following symlinks."""
    n = size = 0
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, 'rb') as fh:
                size += len(fh.read())
            n += 1
    return n, size


def test_reads_the_subtree(srv):
    with Mount(srv) as m:
        root = m.path(ENT, PROJ)
        r = prefetch(root)
        assert r.returncode == 0, r.stderr
        assert r.stderr == ''  # not a terminal: no progress bar
        got = SUMMARY.match(r.stdout)
        assert got, r.stdout
        files, _size = regular_files(root)
        assert files > 6
        assert int(got.group(1)) == files
        # Two PATHs, one of them a single file, -j 1.
        run = sorted(os.listdir(m.path(ENT, PROJ, 'runs')))[0]
        one = m.path(ENT, PROJ, 'runs', run, 'config.json')
        r = prefetch('-j', '1', one, m.path(ENT, PROJ, 'runs', run))
        assert r.returncode == 0, r.stderr
        assert int(SUMMARY.match(r.stdout).group(1)) == 1 + regular_files(
            m.path(ENT, PROJ, 'runs', run))[0]


def test_progress_bar_on_a_terminal(srv):
    with Mount(srv) as m:
        master, slave = pty.openpty()
        try:
            r = subprocess.run([WANDBFS, 'prefetch', m.path(ENT, PROJ)], stdout=subprocess.PIPE,
                               stderr=slave, timeout=120, text=True)
            os.close(slave)
            bar = b''
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                bar += chunk
        finally:
            os.close(master)
        assert r.returncode == 0
        assert SUMMARY.match(r.stdout), r.stdout
        text = bar.decode()
        assert re.search(r'\d+% \[#*\s*\] .*B/.*B  \d+/\d+ files  .*B/s  ETA ', text), text
        assert text.endswith('\r\x1b[K')  # the bar is cleared before the summary


def test_errors(srv, tmp_path):
    r = prefetch(str(tmp_path))
    assert r.returncode == 1
    assert 'not in a wandbfs mount' in r.stderr
    r = prefetch(str(tmp_path / 'missing'))
    assert r.returncode == 1
    assert 'No such file or directory' in r.stderr
    for bad in (['-j', '0'], ['-j', 'x'], [], ['--frobnicate', '/']):
        r = prefetch(*bad)
        assert r.returncode == 2, bad
        assert 'usage' in r.stderr or '-j' in r.stderr
    with Mount(srv) as m:
        r = prefetch(m.path(ENT, 'no-such-project'))
        assert r.returncode == 1
        assert 'No such file or directory' in r.stderr


def test_a_failing_file_is_reported(srv):
    with Mount(srv, args=['--timeout=2']) as m:
        version = m.path(ENT, 'broken', 'artifacts', 'dataset', 'broken:v0')
        assert sorted(os.listdir(version)) == ['gone.bin', 'ok.txt']
        r = prefetch(version)
        assert r.returncode == 1
        got = SUMMARY.match(r.stdout)
        assert got, r.stdout
        assert (got.group(1), got.group(4)) == ('1', '1')
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            'wandbfs prefetch: %s/gone.bin: ' % os.path.realpath(version)), r.stderr
