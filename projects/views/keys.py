"""A project's DSN keys, for its admins: rotate the current key (the old one keeps working for a grace period),
add a further key, revoke one (projects.keys)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from projects import keys
from projects.forms import AddKeyForm, RotateKeyForm
from projects.views.base import form_errors, project_view


@login_required
@project_view(admin=True)
def project_keys(request, project):
    valid, ended = keys.keys_of(project)
    context = {
        "project": project,
        "tab": "keys",
        "valid_keys": valid,
        "ended_keys": ended,
        "rotate_form": RotateKeyForm(),
        "add_form": AddKeyForm(),
        "default_grace_hours": int(keys.default_grace().total_seconds() // 3600),
    }
    return render(request, "projects/settings_keys.html", context)


@require_POST
@login_required
@project_view(admin=True)
def rotate(request, project):
    form = RotateKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not rotated: {form_errors(form)}")
        return redirect("projects:keys", project.pk)
    hours = form.cleaned_data["grace_hours"]
    try:
        old = keys.rotate_key(project, timedelta(hours=hours))
    except keys.KeyActionRefused as e:
        messages.error(request, f"Not rotated: {e}")
        return redirect("projects:keys", project.pk)
    if hours:
        until = old.valid_until.strftime("%Y-%m-%d %H:%M UTC")
        messages.success(request, f"New DSN key made. The old key keeps working for {hours} h, until {until}.")
    else:
        messages.success(request, "New DSN key made. The old key is revoked: events sent with it are refused.")
    return redirect("projects:keys", project.pk)


@require_POST
@login_required
@project_view(admin=True)
def add(request, project):
    form = AddKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No key added: {form_errors(form)}")
    else:
        key = keys.add_key(project, form.cleaned_data["label"])
        messages.success(request, f"Key {key.public_key} added; it works until revoked.")
    return redirect("projects:keys", project.pk)


@require_POST
@login_required
@project_view(admin=True)
def revoke(request, project, key_id: int):
    try:
        key = keys.revoke_key(project, key_id)
    except keys.KeyActionRefused as e:
        messages.error(request, f"Not revoked: {e}")
    else:
        messages.success(request, f"Key {key.public_key} revoked: events sent with it are refused.")
    return redirect("projects:keys", project.pk)
