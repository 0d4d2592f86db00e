"""The user's personal API tokens (api.models.ApiToken) on their preferences: create one, see it once, list and
revoke them. A user sees and revokes only their own tokens; another user's token is a 404."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ApiTokenForm
from api.models import ApiToken


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        row, token = ApiToken.create_for(request.user, form.cleaned_data["name"], form.cleaned_data["scope"])
        # the answer page, not a redirect: the token exists only in this response (never_cache keeps it out of
        # caches), the database holds its hash
        return render(
            request,
            "accounts/token_created.html",
            {
                "row": row,
                "token": token,
                "base_url": settings.BASE_URL,
                "organization": settings.ORGANIZATION_SLUG,
                "nav": "preferences",
            },
        )
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": ApiToken.objects.filter(user=request.user), "nav": "preferences"},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def revoke(request, token_pk: int):
    row = get_object_or_404(ApiToken, pk=token_pk, user=request.user)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        messages.success(request, f"Revoked the token “{row.name}”; requests with it are refused from now on.")
    return redirect("accounts:tokens")
