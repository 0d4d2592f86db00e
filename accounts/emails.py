"""A user's email address: which one is verified, and changing it only through a link sent to the new one.

An address on an account is `User.email`. Since an address can only be changed here through its link, the address an
account has is one its owner showed they receive mail at, with two kinds of exception kept in allauth's
EmailAddress table as rows with verified=False: an address typed on a sign-up form that no mail checked (an
invitation for anyone with the link), and nothing else. An address set by an administrator (the admin, `bootstrap`,
`createsuperuser`) is theirs to vouch for. Single sign-on and a followed link write verified rows.

Invitations bound to an address (projects.people.check_invitee) accept only a verified one, so that typing someone
else's address into Preferences and then accepting their invitation gets nowhere: the address does not change
until its link is followed, and the link goes to that address.

The link is a signed token (Django's signing, salted for this purpose) of the account, the new address and the
address it replaces: following it after the account's address changed in another way, or a second time, finds the
old address no longer there and is refused. It expires after EMAIL_CHANGE_LINK_HOURS.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

SALT = "accounts.emails.change"


class LinkInvalid(Exception):
    """The link is malformed, expired, or no longer matches the account; the message is for the person."""


def same_address(a: str, b: str) -> bool:
    return bool((a or "").strip()) and (a or "").strip().casefold() == (b or "").strip().casefold()


def is_verified(user, email: str) -> bool:
    """Whether `email` is `user`'s address and not one known to be unchecked."""
    if not same_address(user.email or "", email):
        return False
    return not EmailAddress.objects.filter(user=user, email__iexact=user.email.strip(), verified=False).exists()


def mark_verified(user, email: str) -> None:
    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
    row = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if row is None:
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    elif not (row.verified and row.primary):
        row.verified = row.primary = True
        row.save(update_fields=["verified", "primary"])


def mark_unverified(user, email: str) -> None:
    """An address nobody checked (typed on a form): kept, and not trusted where an address must be."""
    EmailAddress.objects.filter(user=user).delete()
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)


def change_link(user, new_email: str) -> str:
    token = signing.dumps({"u": user.pk, "new": new_email, "old": user.email or ""}, salt=SALT, compress=True)
    return settings.BASE_URL.rstrip("/") + reverse("accounts:email_confirm", args=[token])


def request_change(user, new_email: str) -> None:
    """Mail the link that makes `new_email` the account's address; until it is followed nothing changes."""
    context = {
        "user": user,
        "new_email": new_email,
        "link": change_link(user, new_email),
        "hours": settings.EMAIL_CHANGE_LINK_HOURS,
        "site_title": settings.SITE_TITLE,
    }
    body = render_to_string("accounts/email/email_change.txt", context)
    send_mail(f"Confirm your new address on {settings.SITE_TITLE}", body, None, [new_email], fail_silently=False)


def read_link(token: str):
    """(user, new address) of a change link that may still be used; LinkInvalid otherwise."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CHANGE_LINK_HOURS * 3600)
    except signing.SignatureExpired:
        raise LinkInvalid("This link has expired. Change the address in Preferences again for a new one.") from None
    except signing.BadSignature:
        raise LinkInvalid("This is not a valid link.") from None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or (user.email or "") != data.get("old"):
        raise LinkInvalid("This link has been used already, or the account's address changed since it was sent.")
    return user, data["new"]


def confirm_change(token: str):
    """Make the link's new address the account's (verified); returns the user."""
    with transaction.atomic():
        user, new_email = read_link(token)
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if (user.email or "") != signing.loads(token, salt=SALT)["old"]:  # changed by a racing request
            raise LinkInvalid("This link has been used already.")
        user.email = new_email
        user.save(update_fields=["email"])
        mark_verified(user, new_email)
    return user
