"""The bench session: the test server on generated data, the wandbfs mount,
phases measured in seconds and in API requests (from the server's request
log, by the log's offsets before and after), peak RSS, the machine.

The server and the mount are tests/integration/harness.py's, so the bench
starts and mounts exactly as the integration tests do: the mount runs in
the foreground as our child (its pid is the daemon's) and is unmounted when
the session ends, also on an error, Ctrl-C or SIGTERM."""
import json
import os
import platform
import signal
import subprocess
import tempfile
import time

from harness import Mount, Server

from .table import Measure

# A phase ends when the request log has not grown for this long: requests
# the phase started (read-ahead still in flight when the reader is done)
# are logged when answered, and count for the phase that caused them.
QUIET_S = 1.0
SETTLE_MAX_S = 120


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


class Bench:
    """One server, one mount at a time. Use as a context manager."""

    def __init__(self, generate, latency_ms):
        self.generate = generate
        self.latency_ms = latency_ms
        self.server = None
        self.mount = None
        self._data = None

    def __enter__(self):
        # SIGTERM and SIGHUP unwind like Ctrl-C, so every context exits.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_exit)
        self._data = tempfile.TemporaryDirectory(prefix='wbbench-')
        with open(os.path.join(self._data.name, 'server.json'), 'w') as f:
            json.dump({'generate': self.generate}, f)
        try:
            self.server = Server(self._data.name, latency_ms=self.latency_ms)
        except BaseException:
            self._data.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.mount:
                self.unmount()
        finally:
            self.server.stop()
            self._data.cleanup()

    def server_command(self):
        return ' '.join(self.server.proc.args).replace(self.server.api_key, '<test key>')

    # ---- the mount ------------------------------------------------------

    def mount_fs(self, args):
        self.mount = Mount(self.server, args=args)
        self.settle()  # what mounting itself asked counts for no row
        return self.mount

    def unmount(self):
        """Unmount (kill and lazily detach if a clean unmount fails)."""
        m, self.mount = self.mount, None
        try:
            m.unmount()
        except BaseException:
            m.kill()
            raise

    def peak_rss_kib(self):
        """VmHWM of the wandbfs process (kB as /proc says, i.e. KiB)."""
        with open('/proc/%d/status' % self.mount.proc.pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
        raise RuntimeError('no VmHWM for pid %d' % self.mount.proc.pid)

    # ---- phases ---------------------------------------------------------

    def _log_size(self):
        try:
            return os.path.getsize(self.server.request_log)
        except FileNotFoundError:
            return 0

    def settle(self):
        """Wait until the request log stops growing; returns its size."""
        size, quiet_since = self._log_size(), time.monotonic()
        t_end = quiet_since + SETTLE_MAX_S
        while time.monotonic() - quiet_since < QUIET_S:
            if time.monotonic() > t_end:
                raise RuntimeError('the request log kept growing for %d s' % SETTLE_MAX_S)
            time.sleep(0.05)
            now = self._log_size()
            if now != size:
                size, quiet_since = now, time.monotonic()
        return size

    def entries(self, start, end):
        """Request-log entries between two offsets (complete lines only)."""
        with open(self.server.request_log, 'rb') as f:
            f.seek(start)
            data = f.read(end - start)
        return [json.loads(line) for line in data.split(b'\n') if line.strip()]

    def phase(self, fn):
        """(Measure, fn's result): fn's wall time and the requests made
        from its start until the log settles after it (their log entries
        in Measure.entries)."""
        start = self._log_size()
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        end = self.settle()
        entries = self.entries(start, end)
        return Measure(seconds, len(entries), entries=entries), result

    def repeat(self, n, fn):
        """fn measured n times: the median time, the most requests any one
        repetition made, and the last result."""
        runs = [self.phase(fn) for _ in range(n)]
        times = sorted(m.seconds for m, _ in runs)
        return Measure(times[n // 2], max(m.requests for m, _ in runs)), runs[-1][1]

    def sh(self, command, cwd, ok=(0,)):
        """stdout (bytes) of a shell command run in cwd with LC_ALL=C (glob
        and ls order by bytes)."""
        env = dict(os.environ, LC_ALL='C')
        proc = subprocess.run(command, shell=True, cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode not in ok:
            raise RuntimeError('%s (in %s) exited %d: %s' % (
                command, cwd, proc.returncode, proc.stderr.decode('utf-8', 'replace')[:500]))
        return proc.stdout


def machine():
    """Lines describing the machine: CPUs, model, memory, kernel, Debian,
    load."""
    model = '?'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    with open('/proc/meminfo') as f:
        mem = int(f.readline().split()[1]) // 1024
    try:
        with open('/etc/debian_version') as f:
            debian = f.read().strip()
    except OSError:
        debian = '?'
    return ['%d CPUs (nproc %d), %s; %d MiB RAM' % (os.cpu_count(), len(os.sched_getaffinity(0)),
                                                    model, mem),
            'kernel %s, Debian %s, Python %s' % (platform.release(), debian,
                                                 platform.python_version()),
            'load average at start: %.2f %.2f %.2f' % os.getloadavg()]
