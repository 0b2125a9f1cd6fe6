"""Keyed hashes that tell anonymous visitors apart without identifying them: the network address of
a suggester (意见箱) or rater (群众评议), and a rater's browser token.

Each is an HMAC-SHA256 keyed with SECRET_KEY and the campaign's own random salt (Campaign.hash_salt),
so the same address hashes differently in two campaigns, and once the salt is destroyed and the
hashes blanked (after the results are released) nothing, not even SECRET_KEY, links a ballot or a
suggestion to an address again.
"""
import hashlib
import hmac
import ipaddress
import secrets

from django.conf import settings

from .models import Campaign


def keyed_hash(value: str, *, salt: str) -> str:
    """HMAC-SHA256 of `value` keyed with SECRET_KEY and `salt` ("" for no campaign: SECRET_KEY alone)."""
    key = f"{settings.SECRET_KEY}:{salt}" if salt else settings.SECRET_KEY
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def client_hash_of(address: str | None, *, salt: str) -> str:
    """The keyed hash of the client's network: enough to throttle, not to identify.

    An IPv6 client usually holds a whole /64 and can rotate within it, so IPv6 addresses are
    hashed by their /64 network; IPv4 addresses are hashed as they are.
    """
    address = (address or "").strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6 and ip.ipv4_mapped is None:
        address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    elif ip is not None and ip.version == 6:
        address = str(ip.ipv4_mapped)
    return keyed_hash(address, salt=salt)


def salt_of(campaign: Campaign | None) -> str:
    """The campaign's salt as stored now, or "" (none made yet, or destroyed). Reads only."""
    if campaign is None:
        return ""
    return Campaign.objects.filter(pk=campaign.pk).values_list("hash_salt", flat=True).get()


def salt_for(campaign: Campaign | None) -> str:
    """The campaign's salt, made on first need; "" for no campaign. Call it inside the transaction
    of the write that stores the hash.

    Read from the database, never from `campaign` as loaded: a salt destroyed since must not
    live on in an object loaded before.
    """
    salt = salt_of(campaign)
    if campaign is not None and not salt:
        # Compare-and-set: of two first users, one salt wins and both read it back.
        Campaign.objects.filter(pk=campaign.pk, hash_salt="").update(hash_salt=secrets.token_hex(32))
        salt = salt_of(campaign)
    return salt
