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
    "bad_gateway" (a proxy's 502 page). `sever()` cuts every open connection."""

    def __init__(self, target):
        self.target = target
        self.mode = "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open = set()
        self._lock = threading.Lock()
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

    def close(self):
        self._closed = True
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
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for connection in (source, sink):
                with self._lock:
                    self._open.discard(connection)
                _close(connection)


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
