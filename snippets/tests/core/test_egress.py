"""Outbound requests reach public addresses only, whatever the URL's host name
says.
"""

import ipaddress

import httpx
import pytest

from app.core.egress import ForbiddenTargetError, public_addresses

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://127.0.0.1/hooks", "127.0.0.1"),  # loopback
        # a name for loopback (127.0.0.1 or ::1, as the system says)
        (
            "https://localhost:8443/hooks",
            None,
        ),
        ("https://10.0.0.5/admin", "10.0.0.5"),  # private network
        # cloud metadata, link-local
        (
            "https://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        # carrier-grade NAT, shared address space
        (
            "https://100.64.0.1/",
            "100.64.0.1",
        ),
        # loopback in IPv6 clothing
        (
            "https://[::ffff:127.0.0.1]/",
            "::ffff:7f00:1",
        ),
        ("https://[fe80::1]/", "fe80::1"),  # IPv6 link-local
        # cloud metadata through NAT64
        (
            "https://[64:ff9b::a9fe:a9fe]/",
            "64:ff9b::a9fe:a9fe",
        ),
        # a private IPv4 host through NAT64
        (
            "https://[64:ff9b::a00:5]/",
            "64:ff9b::a00:5",
        ),
        # a local-use NAT64 prefix: the operator's own
        (
            "https://[64:ff9b:1::5db8:d70e]/",
            "64:ff9b:1::5db8:d70e",
        ),
        # a private IPv4 host through 6to4
        (
            "https://[2002:a00:5::1]/",
            "2002:a00:5::1",
        ),
        # cloud metadata, IPv4-compatible (deprecated) form
        (
            "https://[::169.254.169.254]/",
            "::a9fe:a9fe",
        ),
    ],
)
async def test_a_non_public_address_is_refused(
    url: str, address: str | None
) -> None:
    with pytest.raises(
        ForbiddenTargetError, match="which is not a public address"
    ) as refusal:
        await public_addresses(url)
    if address:
        assert f"resolves to {address}," in str(refusal.value)


async def test_a_public_address_passes_without_a_lookup() -> None:
    checked = await public_addresses("https://93.184.215.14/hooks")
    assert checked.addresses == [ipaddress.ip_address("93.184.215.14")]


@pytest.mark.parametrize(
    "address",
    ["::ffff:93.184.215.14", "64:ff9b::5db8:d70e", "2002:5db8:d70e::1"],
)
async def test_a_public_ipv4_host_behind_a_translation_prefix_passes(
    address: str,
) -> None:
    """An IPv6-only network reaches public IPv4 hosts through NAT64; only
    internal ones are refused.
    """
    checked = await public_addresses(f"https://[{address}]/hooks")
    assert checked.addresses == [ipaddress.ip_address(address)]


async def test_an_allowed_network_lets_only_its_own_addresses_through() -> (
    None
):
    checked = await public_addresses("https://127.0.0.1:8443/hooks", LOOPBACK)
    assert checked.addresses == [ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(ForbiddenTargetError):
        await public_addresses("https://10.0.0.5/admin", LOOPBACK)


async def test_a_name_that_does_not_resolve_is_a_network_error() -> None:
    """`.invalid` never resolves (RFC 2606): the delivery is retried, like any
    network fault.
    """
    with pytest.raises(
        httpx.ConnectError, match=r"cannot resolve nowhere\.invalid"
    ):
        await public_addresses("https://nowhere.invalid/hooks")


async def test_the_request_goes_to_the_checked_address_under_the_name() -> (
    None
):
    checked = await public_addresses(
        "https://localhost:8443/hooks?topic=a",
        [*LOOPBACK, ipaddress.ip_network("::1")],
    )
    url, host, extensions = checked.pinned(ipaddress.ip_address("127.0.0.1"))
    assert str(url) == "https://127.0.0.1:8443/hooks?topic=a"
    assert host == {"Host": "localhost:8443"}
    # the certificate is checked for the name
    assert extensions == {"sni_hostname": "localhost"}


async def test_an_address_in_the_url_needs_no_name_for_tls() -> None:
    checked = await public_addresses("https://93.184.215.14/hooks")
    url, host, extensions = checked.pinned(checked.addresses[0])
    assert str(url) == "https://93.184.215.14/hooks"
    assert host == {"Host": "93.184.215.14"}
    assert extensions == {}
