// loopback.js: start an HTTP helper server (the storage gate, the fault proxy) on a free 127.0.0.1 port.

// Resolves to {port, close()} once server listens; close() stops it, drops its keep-alive connections,
// then runs onClose (the caller's own cleanup).
export function listenLoopback(server, onClose = () => {}) {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve({
			port: server.address().port,
			close() {
				server.close();
				server.closeAllConnections();
				onClose();
			},
		}));
	});
}
