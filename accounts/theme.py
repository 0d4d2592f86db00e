"""The top bar's light/dark switch: one POST that saves the theme in the user's preferences, so that the choice
follows them to every browser and every page is rendered in it from its first byte (base.html's data-theme), with no
flash of the other theme on load. The script in static/js/app.js switches the page at once and posts in the
background (answered 204); without it the button is a plain form that comes back to the page it was on."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import UserPreferences

BACKGROUND_HEADER = "X-Requested-With"  # the script sends it; a plain form post cannot


@login_required
@require_POST
def set_theme(request):
    theme = request.POST.get("theme", "")
    if theme not in UserPreferences.Theme.values:
        return HttpResponseBadRequest("Unknown theme.")
    UserPreferences.objects.update_or_create(user=request.user, defaults={"theme": theme})
    if request.headers.get(BACKGROUND_HEADER) == "fetch":
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("home")
