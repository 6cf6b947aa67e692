"""Shared test harness: start the W&B-compatible test server, read its
request logs, mount wandbfs. Used by every pytest module in this folder."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

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
