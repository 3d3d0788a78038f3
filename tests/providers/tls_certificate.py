"""A throw-away TLS certificate for local stand-in servers (gRPC is TLS only).

ChatVertexAI's gRPC transport always opens a secure channel, and checks the
server's certificate against gRPC's default roots. gRPC reads those roots from
the file named by GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, once per process, when the
first secure channel needs them. So a test process must point that variable at
the stand-in's certificate before it opens any secure channel:
`session_certificate()` at import time of the test suite's conftest does that.
(Real Google endpoints are then untrusted in that process: tests have no
network anyway.)
"""

import atexit
import datetime
import ipaddress
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

GRPC_ROOTS_VARIABLE = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"


def make_certificate(directory):
    """Write a self-signed certificate for localhost (DNS:localhost,
    IP:127.0.0.1), valid from a day ago for 30 days, and its key, as PEM files
    in `directory`. Returns (cert_path, key_path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)  # self-signed: it is its own root
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        # A CA certificate, so that it can serve as the trusted root too.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = Path(directory) / "localhost.crt"
    key_path = Path(directory) / "localhost.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def trust_for_grpc(cert_path):
    """Make gRPC clients in this process trust `cert_path` (and nothing else).
    Has no effect once gRPC has loaded its roots for a first secure channel."""
    os.environ[GRPC_ROOTS_VARIABLE] = str(cert_path)


@cache
def session_certificate():
    """The process's one stand-in certificate, (cert_path, key_path), made on
    the first call in a temporary directory removed at exit, and trusted for
    gRPC."""
    directory = tempfile.mkdtemp(prefix="standin-tls-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    cert_path, key_path = make_certificate(directory)
    trust_for_grpc(cert_path)
    return cert_path, key_path
