"""A user's signed-in sessions (allauth's usersessions app records each one's address, browser and last use), and
ending them: the others of one's own from Preferences, and all of someone's at once when they are deactivated.

Deactivating a user, whichever way (the admin's form or action, a script, `manage.py shell`), ends every session of
theirs and revokes their API tokens in the same step: a `pre_save` on the user notices is_active turning off. Django
would already refuse an inactive user's session at the next request; ending it removes it from the database now,
and tokens are revoked, not merely refused, so that reactivating someone does not bring old tokens back."""

from datetime import timedelta

from allauth.usersessions.internal.flows.sessions import end_other_sessions
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from api.models import ApiToken

# a session's address, browser and last use are written at sign-in and then at most this often (not on every
# request: SQLite has one writer, and a page view should not need it)
ACTIVITY_RESOLUTION = timedelta(minutes=5)
SEEN_SESSION_KEY = "accounts.sessions.seen"


def record_activity(request, user) -> None:
    if not request.META.get("REMOTE_ADDR"):  # a request made up in a test or a script: no one to list
        return
    UserSession.objects.create_from_request(request, user=user, session=request.session)
    request.session[SEEN_SESSION_KEY] = timezone.now().timestamp()


@receiver(user_logged_in, dispatch_uid="accounts.sessions.record_sign_in")
def record_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        record_activity(request, user)


class SessionActivityMiddleware:
    """Keeps the sessions list's "last seen" and address current, at ACTIVITY_RESOLUTION."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.session_key:
            seen = request.session.get(SEEN_SESSION_KEY) or 0
            if timezone.now().timestamp() - seen >= ACTIVITY_RESOLUTION.total_seconds():
                record_activity(request, user)
        return self.get_response(request)


@login_required
def session_list(request):
    sessions = sorted(
        UserSession.objects.purge_and_list(request.user),
        key=lambda s: (not s.is_current(), -s.last_seen_at.timestamp()),
    )
    return render(request, "accounts/sessions.html", {"sessions": sessions, "nav": "preferences"})


@login_required
@require_POST
def end_others(request):
    end_other_sessions(request, request.user)
    messages.success(request, "Signed out of every other session.")
    return redirect("accounts:sessions")


def end_all_sessions_and_tokens(user) -> None:
    """Every session of `user` ends and every token of theirs is revoked, now."""
    for session in UserSession.objects.filter(user=user):
        session.end()
    # sessions from before the list was kept (or that never made a request since): found by their content
    mine = str(user.pk)
    stale = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get("_auth_user_id") == mine
    ]
    Session.objects.filter(session_key__in=stale).delete()
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


@receiver(pre_save, sender=get_user_model(), dispatch_uid="accounts.sessions.note_deactivation")
def note_deactivation(sender, instance, **kwargs):
    instance._being_deactivated = bool(
        instance.pk and not instance.is_active and sender.objects.filter(pk=instance.pk, is_active=True).exists()
    )


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts.sessions.end_on_deactivation")
def end_on_deactivation(sender, instance, **kwargs):
    if getattr(instance, "_being_deactivated", False):
        instance._being_deactivated = False
        end_all_sessions_and_tokens(instance)
