"""client/http.c against scripted local HTTP servers, driven through the
tests/unit/http_probe binary: retries (500, 429 + Retry-After, connection
reset mid-body, truncated bodies), deadlines, body bounds, ranges (206 and a
server that ignores Range), gzip, redirects, and above all that the API key
only ever reaches the API scope (never a redirect target on another port, a
path outside the base path, a log line or an error message)."""
import base64
import email.utils
import gzip
import hashlib
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import BUILD

PROBE = os.path.join(BUILD, 'tests', 'http_probe')
KEY = 'local-' + 'a1b2c3d4' * 6
PAYLOAD = bytes((i * 7 + i // 251) % 256 for i in range(100000))


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.seen = []
            self.counts = {}

    def hit(self, handler, body):
        with self.lock:
            self.seen.append({'path': handler.path, 'method': handler.command,
                              'client_port': handler.client_address[1],
                              'headers': {k.lower(): v for k, v in handler.headers.items()},
                              'body': body})
            n = self.counts.get(handler.path, 0)
            self.counts[handler.path] = n + 1
            return n


def make_handler(rec, routes):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *args):
            pass

        def _serve(self):
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else b''
            n = rec.hit(self, body)
            path = self.path.split('?')[0]
            route = routes.get(path)
            if route is None:
                self.reply(404, b'no such route')
                return
            route(self, n, body)

        do_GET = _serve
        do_POST = _serve

        def reply(self, status, body=b'', headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def reset_after(self, status, body, sent, headers=()):
            """Announce the whole body, send part of it, then RST."""
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body[:sent])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
            self.close_connection = True
            self.connection.close()

    return Handler


def ranged(handler, n, body, data=PAYLOAD):
    rng = handler.headers.get('Range')
    if not rng:
        handler.reply(200, data)
        return
    a, b = rng.split('=')[1].split('-')
    a, b = int(a), min(int(b), len(data) - 1)
    handler.reply(206, data[a:b + 1],
                  [('Content-Range', 'bytes %d-%d/%d' % (a, b, len(data)))])


def api_routes(storage_port, active):
    def ok(h, n, body):
        h.reply(200, b'ok-body')

    def flaky(h, n, body):
        h.reply(500, b'{"errors":[{"message":"boom"}]}') if n < 2 else h.reply(200, b'flaky-ok')

    def ratelimit(h, n, body):
        if n == 0:
            h.reply(429, b'slow down', [('Retry-After', '1')])
        else:
            h.reply(200, b'rl-ok')

    def ratelimit_date(h, n, body):
        if n == 0:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            h.reply(503, b'later', [('Retry-After', when)])
        else:
            h.reply(200, b'date-ok')

    def always_429(h, n, body):
        h.reply(429, b'no', [('Retry-After', '0')])

    def reset(h, n, body):
        if n == 0:
            h.reset_after(200, PAYLOAD, 30000)
        else:
            h.reply(200, PAYLOAD)

    def range_reset(h, n, body):
        if n == 0:
            rng = h.headers['Range'].split('=')[1].split('-')
            a, b = int(rng[0]), int(rng[1])
            h.reset_after(206, PAYLOAD[a:b + 1], 100,
                          [('Content-Range', 'bytes %d-%d/%d' % (a, b, len(PAYLOAD)))])
        else:
            ranged(h, n, body)

    def trunc_always(h, n, body):
        h.reset_after(200, PAYLOAD, 1000)

    def slow(h, n, body):
        time.sleep(4)
        h.reply(200, b'late')

    def gz(h, n, body):
        if 'gzip' in h.headers.get('Accept-Encoding', ''):
            h.reply(200, gzip.compress(PAYLOAD), [('Content-Encoding', 'gzip')])
        else:
            h.reply(200, PAYLOAD)

    def echo(h, n, body):
        h.reply(200, body, [('Content-Type', 'application/json')])

    def redirect(h, n, body):
        h.reply(302, b'', [('Location', 'http://127.0.0.1:%d/storage/obj?sig=SECRETSIG'
                            % storage_port)])

    def redirect_same(h, n, body):
        h.reply(302, b'', [('Location', '/api/ok')])

    def redirect_loop(h, n, body):
        h.reply(302, b'', [('Location', '/api/redirect-loop')])

    def big(h, n, body):
        h.reply(200, PAYLOAD * 3)

    def concurrent(h, n, body):
        with active['lock']:
            active['now'] += 1
            active['max'] = max(active['max'], active['now'])
        time.sleep(0.3)
        with active['lock']:
            active['now'] -= 1
        h.reply(200, b'done')

    def status(code):
        return lambda h, n, body: h.reply(code, b'{"error":"status %d"}' % code)

    return {
        '/api/ok': ok, '/other/ok': ok, '/apiary/ok': ok,
        '/api/flaky': flaky, '/api/ratelimit': ratelimit,
        '/api/ratelimit-date': ratelimit_date, '/api/always-429': always_429,
        '/api/reset': reset, '/api/range-reset': range_reset,
        '/api/trunc-always': trunc_always, '/api/slow': slow, '/api/gzip': gz,
        '/api/echo': echo, '/api/redirect': redirect,
        '/api/redirect-same': redirect_same, '/api/redirect-loop': redirect_loop,
        '/api/big': big, '/api/range': ranged, '/api/concurrent': concurrent,
        '/api/norange': lambda h, n, body: h.reply(200, PAYLOAD),
        '/api/400': status(400), '/api/401': status(401), '/api/403': status(403),
        '/api/404': status(404), '/api/502': status(502),
    }


def storage_routes():
    return {'/storage/obj': lambda h, n, body: h.reply(200, b'storage-bytes')}


class Servers:
    def __init__(self, tls_cert=None):
        self.storage_rec = Recorder()
        self.storage = ThreadingHTTPServer(('127.0.0.1', 0),
                                           make_handler(self.storage_rec, storage_routes()))
        self.api_rec = Recorder()
        self.active = {'now': 0, 'max': 0, 'lock': threading.Lock()}
        self.api = ThreadingHTTPServer(
            ('127.0.0.1', 0),
            make_handler(self.api_rec, api_routes(self.storage.server_address[1],
                                                  self.active)))
        scheme = 'http'
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert)
            self.api.socket = ctx.wrap_socket(self.api.socket, server_side=True)
            scheme = 'https'
        for srv in (self.storage, self.api):
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.base = '%s://127.0.0.1:%d' % (scheme, self.api.server_address[1])

    def close(self):
        for srv in (self.api, self.storage):
            srv.shutdown()
            srv.server_close()


@pytest.fixture(scope='module')
def servers():
    s = Servers()
    yield s
    s.close()


@pytest.fixture
def srv(servers):
    servers.api_rec.reset()
    servers.storage_rec.reset()
    servers.active['max'] = 0
    return servers


def probe(srv, path, *args, env_extra=None, base_path='/api', out=None, timeout=60):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('WANDB') and k != 'NETRC'}
    env.update({
        'WANDB_BASE_URL': srv.base + base_path,
        'WANDB_API_KEY': KEY,
        'WANDB_CONFIG_DIR': '/nonexistent',
        'HOME': '/nonexistent',
        'WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS': '0.05',
        'WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS': '0.2',
        'no_proxy': '*',
    })
    env.update(env_extra or {})
    url = path if path.startswith('http') else srv.base + path
    cmd = [PROBE, *args]
    if out:
        cmd += ['--out', out]
    t0 = time.monotonic()
    proc = subprocess.run(cmd + [url], capture_output=True, text=True, env=env,
                          timeout=timeout)
    assert proc.returncode in (0, 1) and 'Sanitizer' not in proc.stderr, proc.stderr
    result = json.loads(proc.stdout)
    result['elapsed'] = time.monotonic() - t0
    result['log'] = proc.stderr
    # the key never leaks into output, logs or messages
    assert KEY not in proc.stdout and KEY not in proc.stderr
    assert base64.b64encode(('api:' + KEY).encode()).decode() not in proc.stderr
    return result


def auth_value():
    return 'Basic ' + base64.b64encode(('api:' + KEY).encode()).decode()


def md5(data):
    return hashlib.md5(data).hexdigest()


def test_plain_get_sends_auth_in_scope(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/ok', out=str(out))
    assert r['rc'] == 0 and r['status'] == 200 and r['attempts'] == 1
    assert out.read_bytes() == b'ok-body'
    seen = srv.api_rec.seen[0]
    assert seen['headers']['authorization'] == auth_value()
    assert 'wandbfs/' in seen['headers']['user-agent']
    assert r['stats']['api_requests'] == 1 and r['stats']['storage_requests'] == 0


def test_connections_are_reused(srv):
    r = probe(srv, '/api/ok', '--repeat', '5')
    assert r['rc'] == 0 and r['stats']['requests'] == 5
    assert len({s['client_port'] for s in srv.api_rec.seen}) == 1


def test_no_auth_outside_base_path(srv):
    # same host and port, but outside /api: not in the auth scope
    for path in ('/other/ok', '/apiary/ok'):
        r = probe(srv, path)
        assert r['rc'] == 0
    assert all('authorization' not in s['headers'] for s in srv.api_rec.seen)


def test_redirect_to_other_port_drops_auth(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/redirect', '--follow', out=str(out),
              env_extra={'WANDB__EXTRA_HTTP_HEADERS': '{"X-Extra": "yes"}',
                         'WANDB_USERNAME': 'alice'})
    assert r['rc'] == 0, r
    assert out.read_bytes() == b'storage-bytes'
    api, = srv.api_rec.seen
    st, = srv.storage_rec.seen
    assert api['headers']['authorization'] == auth_value()
    assert api['headers']['x-wandb-username'] == 'alice'
    assert 'authorization' not in st['headers']
    assert 'x-wandb-username' not in st['headers']
    # extra headers go everywhere, as the SDK does
    assert api['headers']['x-extra'] == 'yes' and st['headers']['x-extra'] == 'yes'
    assert r['stats']['api_requests'] == 1 and r['stats']['storage_requests'] == 1
    # the presigned signature is a secret too: never in the debug log
    assert 'SECRETSIG' not in r['log'] and '/storage/obj' in r['log']


def test_redirect_not_followed_unless_asked(srv):
    r = probe(srv, '/api/redirect')
    assert r['rc'] != 0 and r['status'] == 302
    assert srv.storage_rec.seen == []


def test_redirect_same_scope_keeps_auth(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/redirect-same', '--follow', out=str(out))
    assert r['rc'] == 0 and out.read_bytes() == b'ok-body'
    assert [s['headers'].get('authorization') for s in srv.api_rec.seen] == [auth_value()] * 2


def test_redirect_loop_is_bounded(srv):
    r = probe(srv, '/api/redirect-loop', '--follow')
    assert r['errno'] == 'EIO' and 'redirects' in r['msg']
    assert len(srv.api_rec.seen) == 6  # the request and 5 hops, no retries


def test_500_then_success(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/flaky', out=str(out))
    assert r['rc'] == 0 and r['attempts'] == 3 and r['stats']['retries'] == 2
    assert out.read_bytes() == b'flaky-ok'


def test_retry_after_seconds(srv):
    r = probe(srv, '/api/ratelimit')
    assert r['rc'] == 0 and r['attempts'] == 2
    assert r['elapsed'] >= 1.0  # Retry-After: 1 beats the 0.05 s backoff


def test_retry_after_http_date(srv):
    r = probe(srv, '/api/ratelimit-date')
    assert r['rc'] == 0 and r['attempts'] == 2
    assert r['elapsed'] >= 0.9


def test_429_exhausted_is_eagain(srv):
    r = probe(srv, '/api/always-429', '--retries', '3')
    assert r['errno'] == 'EAGAIN' and r['attempts'] == 4 and r['status'] == 429
    assert 'rate limited' in r['msg'] and 'probe' in r['msg']


def test_reset_mid_body_is_retried_buffered(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/reset', out=str(out))
    assert r['rc'] == 0 and r['attempts'] == 2, r
    assert md5(out.read_bytes()) == md5(PAYLOAD)


def test_reset_mid_body_restarts_sink(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/reset', '--sink', out=str(out))
    assert r['rc'] == 0 and r['attempts'] == 2 and r['restarts'] == 1, r
    assert md5(out.read_bytes()) == md5(PAYLOAD)


def test_reset_mid_body_without_restart_fails(srv, tmp_path):
    r = probe(srv, '/api/reset', '--sink', '--no-restart', out=str(tmp_path / 'o'))
    assert r['errno'] == 'EIO' and 'cannot restart' in r['msg']
    assert len(srv.api_rec.seen) == 1


def test_truncated_forever_is_eio(srv):
    r = probe(srv, '/api/trunc-always', '--retries', '2')
    assert r['errno'] == 'EIO' and r['attempts'] == 3


@pytest.mark.parametrize('code,errno,text', [
    (400, 'EINVAL', 'HTTP 400'),
    (401, 'EACCES', 'API key rejected by 127.0.0.1:'),
    (403, 'EACCES', 'permission denied by 127.0.0.1:'),
    (404, 'ENOENT', 'not found'),
])
def test_final_statuses_not_retried(srv, code, errno, text):
    r = probe(srv, '/api/%d' % code)
    assert r['errno'] == errno and r['status'] == code and r['attempts'] == 1
    assert text in r['msg'] and r['msg'].startswith('probe: ')
    assert len(srv.api_rec.seen) == 1


def test_502_exhausted_is_eio(srv):
    r = probe(srv, '/api/502', '--retries', '2')
    assert r['errno'] == 'EIO' and r['attempts'] == 3 and r['err_status'] == 502


def test_deadline(srv):
    r = probe(srv, '/api/slow', '--deadline', '1000')
    assert r['errno'] == 'ETIMEDOUT'
    assert r['elapsed'] < 3.5


def test_deadline_stops_backoff(srv):
    # Retry-After 1 s would cross a 500 ms deadline: fail now, do not sleep
    r = probe(srv, '/api/ratelimit', '--deadline', '500')
    assert r['errno'] == 'ETIMEDOUT' and r['elapsed'] < 0.9
    assert 'HTTP 429' in r['msg'] or 'rate limited' in r['msg']


def test_body_bound(srv):
    r = probe(srv, '/api/big', '--max-body', '150000')
    assert r['errno'] == 'EFBIG' and r['attempts'] == 1


def test_gzip_decoded(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/gzip', out=str(out))
    assert r['rc'] == 0 and md5(out.read_bytes()) == md5(PAYLOAD)
    assert 'gzip' in srv.api_rec.seen[0]['headers']['accept-encoding']


def test_post_body_and_content_type(srv, tmp_path):
    out = tmp_path / 'o'
    body = '{"query":"{ viewer { id } }","variables":{}}'
    r = probe(srv, '/api/echo', '--post', body, out=str(out))
    assert r['rc'] == 0 and out.read_bytes() == body.encode()
    seen = srv.api_rec.seen[0]
    assert seen['method'] == 'POST' and seen['headers']['content-type'] == 'application/json'


@pytest.mark.parametrize('path', ['/api/range', '/api/norange'])
@pytest.mark.parametrize('sink', [False, True])
def test_range(srv, tmp_path, path, sink):
    out = tmp_path / 'o'
    args = ['--range', '1000-50999'] + (['--sink'] if sink else [])
    r = probe(srv, path, *args, out=str(out))
    assert r['rc'] == 0, r
    assert out.read_bytes() == PAYLOAD[1000:51000]
    seen = srv.api_rec.seen[0]['headers']
    assert seen['range'] == 'bytes=1000-50999'
    assert 'accept-encoding' not in seen  # no transparent gzip on ranges
    if path == '/api/range':
        assert r['content_range'] == 'bytes 1000-50999/100000'


def test_range_past_end_is_short(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/range', '--range', '99990-200000', out=str(out))
    assert r['rc'] == 0 and out.read_bytes() == PAYLOAD[99990:]


def test_range_reset_is_retried(srv, tmp_path):
    out = tmp_path / 'o'
    r = probe(srv, '/api/range-reset', '--range', '10-20009', '--sink', out=str(out))
    assert r['rc'] == 0 and r['attempts'] == 2 and r['restarts'] == 1, r
    assert out.read_bytes() == PAYLOAD[10:20010]


def test_connection_refused_retried_then_eio(srv):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    r = probe(srv, 'http://127.0.0.1:%d/api/ok' % port, '--retries', '2')
    assert r['errno'] == 'EIO' and r['attempts'] == 3 and r['status'] == 0


def test_debug_log_line_per_attempt(srv):
    r = probe(srv, '/api/flaky')
    lines = [l for l in r['log'].splitlines() if 'http probe GET' in l]
    assert len(lines) == 3
    assert '-> 500' in lines[0] and '-> 200' in lines[2] and 'attempt 3' in lines[2]


def test_bad_extra_headers_rejected(srv):
    r = probe(srv, '/api/ok', env_extra={'WANDB__EXTRA_HTTP_HEADERS': '["x"]'})
    assert r['errno'] == 'EINVAL' and 'WANDB__EXTRA_HTTP_HEADERS' in r['msg']
    assert srv.api_rec.seen == []


def test_inflight_bound_across_threads(srv):
    r = probe(srv, '/api/concurrent', '--threads', '10', '--inflight', '3')
    assert r['rc'] == 0, r
    assert r['stats']['requests'] == 10 and r['stats']['retries'] == 0
    # 10 transfers of 0.3 s through 3 slots: 4 waves
    assert r['elapsed'] >= 1.1
    assert len(srv.api_rec.seen) == 10
    # the server saw exactly 3 at once: bounded, and actually parallel
    assert srv.active['max'] == 3


@pytest.fixture(scope='module')
def tls_servers(tmp_path_factory):
    if not shutil.which('openssl'):
        pytest.skip('openssl CLI not installed')
    d = tmp_path_factory.mktemp('tls')
    pem = d / 'cert.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                    '-keyout', str(pem), '-out', str(d / 'crt.pem'), '-days', '1',
                    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True)
    pem.write_text(pem.read_text() + (d / 'crt.pem').read_text())
    s = Servers(tls_cert=str(pem))
    s.ca_file = str(d / 'crt.pem')
    yield s
    s.close()


def test_tls_verified_by_default(tls_servers):
    tls_servers.api_rec.reset()
    r = probe(tls_servers, '/api/ok')
    assert r['errno'] == 'EIO' and r['attempts'] == 1  # certificate errors are final
    assert 'certificate' in r['msg'].lower()
    assert tls_servers.api_rec.seen == []


def test_tls_ca_file_and_insecure(tls_servers, tmp_path):
    tls_servers.api_rec.reset()
    out = tmp_path / 'o'
    r = probe(tls_servers, '/api/ok', '--ca-file', tls_servers.ca_file, out=str(out))
    assert r['rc'] == 0 and out.read_bytes() == b'ok-body'
    assert tls_servers.api_rec.seen[0]['headers']['authorization'] == auth_value()
    r = probe(tls_servers, '/api/ok', '--insecure')
    assert r['rc'] == 0


def test_anonymous_requests(srv):
    r = probe(srv, '/api/ok', env_extra={'WANDB_API_KEY': ''})
    assert r['rc'] == 0
    r = probe(srv, '/api/401', env_extra={'WANDB_API_KEY': ''})
    assert r['errno'] == 'EACCES' and 'requires credentials' in r['msg']
    assert all('authorization' not in s['headers'] for s in srv.api_rec.seen)
