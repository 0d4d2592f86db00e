from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import emails, sso, throttle
from accounts.forms import PreferencesForm, ProfileForm, SetupForm
from accounts.models import UserPreferences
from bugsink import csp
from projects.models import ProjectMembership, TeamMembership


def no_users_yet() -> bool:
    return not get_user_model().objects.exists()


class LoginView(auth_views.LoginView):
    """The login page; on a fresh installation (no user at all) it sends you to create the first admin instead.

    A button per single sign-on provider (accounts.sso), and the password form, which SSO_ONLY hides behind a link
    for administrators. A right password goes on through allauth's login stages, so that an account with a second
    factor is asked for it (accounts.two_factor) before it is signed in."""

    template_name = "accounts/login.html"

    def dispatch(self, request, *args, **kwargs):
        if no_users_yet():
            return redirect("accounts:setup")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        show_password = not settings.SSO_ONLY or "password" in self.request.GET or self.request.method == "POST"
        return {
            **super().get_context_data(**kwargs),
            "email_configured": bool(settings.EMAIL_HOST),
            "providers": sso.login_buttons(),
            "sso_only": settings.SSO_ONLY,
            "show_password": show_password,
        }

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        # the provider buttons post here and are redirected to the provider: its origin must be a form target
        origins = sorted({sso.provider_origin(p) for p in sso.configured_providers()})
        if origins:
            response["Content-Security-Policy"] = csp.header_with_form_targets(origins)
        return response

    def post(self, request, *args, **kwargs):
        # over the limit the password is not even looked at (accounts.throttle); say so, and for how long
        wait = throttle.login_retry_after(request, request.POST.get("username"))
        if wait:
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            message = throttle.refusal_message(wait) + " Forgot it? Reset it below."
            response = self.render_to_response(self.get_context_data(form=form, throttled=message), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        login_ = Login(user=user, redirect_url=self.get_success_url(), email_verification="none")
        return perform_password_login(self.request, {"username": user.get_username()}, login_)


def setup(request):
    """Create the first user, a superuser. Exists only as long as there are no users at all."""
    if not no_users_yet():
        raise Http404("Set up already")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if not no_users_yet():  # someone else was quicker
                raise Http404("Set up already")
            user = form.save(commit=False)
            user.is_staff = user.is_superuser = True
            user.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}: you are this server's administrator.")
        return redirect("projects:create")
    return render(request, "accounts/setup.html", {"form": form})


@login_required
def preferences(request):
    prefs, _ = UserPreferences.objects.get_or_create(user=request.user)
    form = PreferencesForm(request.POST or None, instance=prefs, prefix="display")
    profile_form = ProfileForm(request.POST or None, instance=request.user, prefix="profile")
    if request.method == "POST" and form.is_valid() and profile_form.is_valid():
        new_email = profile_form.new_email()  # not saved: it takes effect when its link is followed
        with transaction.atomic():
            form.save()
            profile_form.save()
        if new_email:
            try:
                emails.request_change(request.user, new_email)
            except Exception:  # noqa: BLE001 (whatever the mail backend raises: the rest was saved, say so)
                messages.error(request, f"Preferences saved, but the link for {new_email} could not be mailed.")
                return redirect("accounts:preferences")
            messages.success(
                request,
                f"Preferences saved. We sent a link to {new_email}: your address changes when you follow it "
                f"(within {settings.EMAIL_CHANGE_LINK_HOURS} hours). Until then it stays "
                f"{request.user.email or 'empty'}.",
            )
        else:
            messages.success(request, "Preferences saved.")
        return redirect("accounts:preferences")
    return render(
        request,
        "accounts/preferences.html",
        {
            "form": form,
            "profile_form": profile_form,
            "project_memberships": ProjectMembership.objects.filter(user=request.user)
            .select_related("project")
            .order_by("project__name"),
            "team_memberships": TeamMembership.objects.filter(user=request.user)
            .select_related("team")
            .order_by("team__name"),
            "email_verified": emails.is_verified(request.user, request.user.email or ""),
            "email_configured": bool(settings.EMAIL_HOST),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """The link mailed to a new address: GET shows what it does (mail scanners follow links), POST does it."""
    try:
        user, new_email = emails.read_link(token)
    except emails.LinkInvalid as e:
        return render(request, "accounts/email_confirm.html", {"invalid": str(e)}, status=410)
    if request.method == "POST":
        try:
            emails.confirm_change(token)
        except emails.LinkInvalid as e:
            return render(request, "accounts/email_confirm.html", {"invalid": str(e)}, status=410)
        messages.success(request, f"Your address is now {new_email}.")
        return redirect("accounts:preferences" if request.user.is_authenticated else "accounts:login")
    return render(request, "accounts/email_confirm.html", {"account": user, "new_email": new_email})


def inactive(request):
    """Where allauth sends a sign-in of a deactivated account."""
    return render(request, "accounts/inactive.html", status=403)


def sso_cancelled(request):
    """Where allauth sends a sign-in that was cancelled at the provider."""
    messages.info(request, "Single sign-on was cancelled.")
    return redirect("accounts:login")


@login_required
@require_POST
def notifications(request):
    """Which projects and teams the user wants email alerts from: the checked boxes, and only those."""
    projects = {int(v) for v in request.POST.getlist("project") if v.isdigit()}
    teams = {int(v) for v in request.POST.getlist("team") if v.isdigit()}
    with transaction.atomic():
        own_projects = ProjectMembership.objects.filter(user=request.user)
        own_projects.exclude(pk__in=projects).update(send_email_alerts=False)
        own_projects.filter(pk__in=projects).update(send_email_alerts=True)
        own_teams = TeamMembership.objects.filter(user=request.user)
        own_teams.exclude(pk__in=teams).update(send_email_alerts=False)
        own_teams.filter(pk__in=teams).update(send_email_alerts=True)
    messages.success(request, "Email alert choices saved.")
    return redirect("accounts:preferences")


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:preferences")
    success_message = "Your password was changed."


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self):
        # links in mail point at BASE_URL, where people reach the server, whatever Host this request came in on
        return {"base_url": settings.BASE_URL.rstrip("/"), "site_title": settings.SITE_TITLE}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "email_configured": bool(settings.EMAIL_HOST)}

    def form_valid(self, form):
        may_ask, may_mail = throttle.password_reset_allowed(self.request, form.cleaned_data["email"])
        if not may_ask:
            message = "Too many password reset requests from your address; try again in an hour."
            return self.render_to_response(self.get_context_data(form=form, throttled=message), status=429)
        if not may_mail:  # the same answer as for a sent mail: the page does not tell whether the address is known
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
