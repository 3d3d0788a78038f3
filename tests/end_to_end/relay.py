"""A TCP relay a test puts between the browser and the server, to cut, refuse
or fake what the network does."""

import socket
import struct
import threading

BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 48\r\nConnection: close\r\n\r\n"
    b"<html><body><h1>Bad gateway</h1></body></html>\r\n"
)


class Relay:
    """Listens on a free loopback port and forwards each connection to
    `target` (host, port). `mode` decides what a new connection gets:
    "forward", "refuse" (closed at once, as a server that is down) or
    "bad_gateway" (a proxy's 502 page). `sever()` cuts every open connection;
    `freeze()` makes open ones silent (no bytes either way, no error), as a
    network path that stopped without saying so."""

    def __init__(self, target):
        self.target = target
        self.mode = "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open = set()
        self._lock = threading.Lock()
        self._thawed = threading.Condition(self._lock)  # a frozen connection was closed
        self._frozen = set()
        self._requests = {}  # client connection -> (its upstream, the last bytes it sent)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def sever(self):
        with self._lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            _close(connection, reset=True)

    def freeze(self, sent=b""):
        """Hold every byte of the connections open now whose client last sent
        something containing `sent` (all of them by default), until they are
        closed; connections made later are not affected."""
        with self._lock:
            for client, (upstream, last) in self._requests.items():
                if sent in last and client in self._open:
                    self._frozen.update((client, upstream))

    def close(self):
        with self._lock:
            self._closed = True
            self._thawed.notify_all()
        self.sever()
        self._listener.close()

    def _accept(self):
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                _close(client, reset=True)
                continue
            if self.mode == "bad_gateway":
                threading.Thread(target=self._answer_bad_gateway, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client, reset=True)
                continue
            with self._lock:
                self._open.update((client, upstream))
                self._requests[client] = (upstream, b"")
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _answer_bad_gateway(self, client):
        try:
            client.recv(65536)
            client.sendall(BAD_GATEWAY)
        except OSError:
            pass
        _close(client)

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                self._hold_while_frozen(source, sink)
                with self._lock:
                    if source in self._requests:
                        self._requests[source] = (sink, data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for connection in (source, sink):
                with self._lock:
                    self._open.discard(connection)
                    self._frozen.discard(connection)
                    self._requests.pop(connection, None)
                    self._thawed.notify_all()
                _close(connection)

    def _hold_while_frozen(self, *connections):
        with self._lock:
            while not self._closed and self._frozen.intersection(connections):
                self._thawed.wait()


def _close(connection, reset=False):
    """Close now, also while a pipe thread is blocked reading it (`close` alone
    would wait for that read); `reset` sends an RST, as a dropped network or
    a killed process does."""
    try:
        if reset:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        connection.close()
    except OSError:
        pass
