"""The network a client's address stands for, as the per-address limits count it.

One IPv6 customer is given a whole /64 (often far more), so counting each
IPv6 address on its own lets one person be 2**64 clients: limits keyed by
address count an IPv6 client by its /64. IPv4 (and IPv4 written as IPv6)
stays the single address, which is what one NAT shares.
"""

import ipaddress

IPV6_CUSTOMER_PREFIX = 64


def network_of(address):
    """'2001:db8:1:2::/64' for any address in that /64, the IPv4 address for
    IPv4, the text itself for anything else (a unix socket has no address)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or ""
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CUSTOMER_PREFIX}", strict=False))
    return str(parsed)
