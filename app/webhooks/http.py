"""POSTing a webhook: stdlib HTTP with short timeouts, no redirects, and the SSRF rule checked at connect time.

The address is resolved once, checked (public unicast only, unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES), and the
socket connects to that checked address, so a DNS answer that changes between check and connect
(rebinding) cannot reach an internal service. TLS still verifies the certificate against the URL's host name.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


class DeliveryError(Exception):
    """The request could not be made or answered (connection, timeout, refused address)."""


@dataclass(frozen=True)
class Response:
    status: int


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _open_socket(host: str, port: int, timeout: float, allow_private: bool) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryError(f"cannot resolve {host}") from exc
    if not infos:
        raise DeliveryError(f"cannot resolve {host}")
    if not allow_private:
        for *_rest, sockaddr in infos:
            if not is_public_address(sockaddr[0]):
                raise DeliveryError(f"{host} resolves to a private or reserved address ({sockaddr[0]}): refused")
    last: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise DeliveryError(f"cannot connect to {host}:{port}: {last}")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    allow_private = False

    def connect(self):
        self.sock = _open_socket(self.host, self.port, self.timeout, self.allow_private)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    allow_private = False

    def connect(self):
        sock = _open_socket(self.host, self.port, self.timeout, self.allow_private)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> Response:
    """POST once. Any status is returned (3xx included: redirects are never followed); network trouble raises."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("only http and https URLs are allowed")
    base = _CheckedHTTPSConnection if parts.scheme == "https" else _CheckedHTTPConnection
    kwargs = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
    conn = base(parts.hostname, parts.port, timeout=timeout, **kwargs)
    conn.allow_private = allow_private
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(4096)  # a little of the answer, so the connection closes cleanly
        return Response(response.status)
    except DeliveryError:
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
