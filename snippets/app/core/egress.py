"""Outbound requests to URLs that users chose: public addresses only
(server-side request forgery).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ForbiddenTargetError(Exception):
    """The URL's host is, or resolves to, an address outbound requests may not
    reach.
    """


# --8<-- [start:public_addresses]
@dataclass(frozen=True)
class CheckedTarget:
    """Where to send a request: the addresses that were checked, and the name
    the server expects.
    """

    url: httpx.URL
    addresses: list[IPAddress]

    def pinned(
        self, address: IPAddress
    ) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The URL with `address` as its host, the `Host` header, and the TLS
        name to verify.

        Connecting to the checked address, not the name, closes the gap in
        which a second DNS answer (DNS rebinding) could point the name at an
        internal address after the check.
        """
        headers = {"Host": self.url.netloc.decode("ascii")}
        is_name = not _is_ip_literal(self.url.host)
        # certificate checked for the name
        extensions = {"sni_hostname": self.url.host} if is_name else {}
        return self.url.copy_with(host=str(address)), headers, extensions


async def public_addresses(
    url: str, allowed_private: Sequence[IPNetwork] = ()
) -> CheckedTarget:
    """Resolve the URL's host and refuse it if any address is not public,
    unless explicitly allowed.

    Raises `ForbiddenTargetError` for loopback, private, link-local (cloud
    metadata), shared and other special addresses; a name that does not resolve
    raises `httpx.ConnectError`, a transient network fault like any other.
    """
    target = httpx.URL(url)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            target.host, target.port or 443, type=socket.SOCK_STREAM
        )
    except socket.gaierror as error:
        raise httpx.ConnectError(
            f"cannot resolve {target.host}: {error.strerror}"
        ) from error
    # An IPv6 link-local answer carries its interface (`fe80::1%eth0`); the
    # address is before `%`.
    addresses = list(
        dict.fromkeys(
            ipaddress.ip_address(str(info[4][0]).split("%")[0])
            for info in found
        )
    )
    for address in addresses:
        reached = reached_ipv4(address)
        public = (
            reached.is_global
            and reached not in NAT64_LOCAL_USE
            and reached not in IPV4_COMPATIBLE
        )
        if not public and not any(
            reached in network for network in allowed_private
        ):
            raise ForbiddenTargetError(
                f"{target.host} resolves to {address}, which is not a public"
                " address"
            )
    return CheckedTarget(target, addresses)


NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
# a network's own translator: never public
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# deprecated (RFC 4291), yet `is_global` passes `::a9fe:a9fe`
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def reached_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 host that an IPv4-mapped, NAT64 (`64:ff9b::/96`) or 6to4
    address reaches; else the address.

    `is_global` judges such an IPv6 address by its prefix, not by the IPv4 host
    inside it, so `64:ff9b::a9fe:a9fe` (169.254.169.254 through NAT64) would
    pass as public.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.ipv4_mapped or address.sixtofour or address


# --8<-- [end:public_addresses]


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
