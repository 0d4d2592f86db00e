"""A project's alert settings page (for its admins): which changes alert, who gets email, the webhook channels
(add, pause, delete, send a test alert) and the latest deliveries.

The URLs stay under the project's settings (`projects:alerts`, `projects:channel_*`, `projects:test_email`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alerts import delivery
from alerts.forms import AlertChannelForm, AlertSwitchesForm
from alerts.models import AlertChannel, DeliveryAttempt
from projects.views.base import project_view


def _render_alerts(request, project, switches_form=None, channel_form=None, status=200):
    context = {
        "project": project,
        "tab": "alerts",
        "switches_form": switches_form or AlertSwitchesForm(instance=project),
        "channel_form": channel_form or AlertChannelForm(),
        "channels": project.alert_channels.order_by("name", "pk"),
        "deliveries": DeliveryAttempt.objects.filter(project=project).select_related("channel")[:10],
        "email_recipients": delivery.email_recipients(project),
    }
    return render(request, "alerts/settings.html", context, status=status)


@login_required
@project_view(admin=True)
def project_alerts(request, project):
    if request.method == "POST":
        form = AlertSwitchesForm(request.POST, instance=project)
        if form.is_valid():
            form.save()
            messages.success(request, "Alert settings saved.")
            return redirect("projects:alerts", project.pk)
        return _render_alerts(request, project, switches_form=form)
    return _render_alerts(request, project)


@login_required
@require_POST
@project_view(admin=True)
def channel_create(request, project):
    form = AlertChannelForm(request.POST, instance=AlertChannel(project=project))
    if not form.is_valid():
        return _render_alerts(request, project, channel_form=form)
    channel = form.save()
    messages.success(request, f"Alert channel {channel.name} added. Send it a test alert to check it works.")
    return redirect(reverse("projects:alerts", args=[project.pk]) + f"#channel-{channel.pk}")


@login_required
@require_POST
@project_view(admin=True)
def channel_delete(request, project, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id, project=project)
    channel.delete()
    messages.success(request, f"Alert channel {channel.name} deleted.")
    return redirect("projects:alerts", project.pk)


@login_required
@require_POST
@project_view(admin=True)
def channel_toggle(request, project, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id, project=project)
    channel.is_active = request.POST.get("active") == "1"
    channel.save(update_fields=["is_active"])
    state = "active: it gets this project's alerts" if channel.is_active else "paused: it gets no alerts"
    messages.success(request, f"Alert channel {channel.name} is {state}.")
    return redirect("projects:alerts", project.pk)


@login_required
@require_POST
@project_view(admin=True)
def channel_test(request, project, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id, project=project)
    outcome = delivery.send_test_alert(channel)
    if outcome.sent:
        messages.success(request, f"Test alert delivered to {channel.name}.")
    else:
        messages.error(request, f"Test alert to {channel.name} {outcome.record.status}: {outcome.record.error}")
    return redirect(reverse("projects:alerts", args=[project.pk]) + f"#channel-{channel.pk}")


@login_required
@require_POST
@project_view(admin=True)
def test_email(request, project):
    outcome = delivery.send_test_email(project)
    if outcome is None:
        messages.warning(request, "Nobody to email: no member who wants email alerts has an email address.")
    elif outcome.sent:
        messages.success(request, f"Test email sent to {outcome.record.target}.")
    else:
        messages.error(request, f"Test email failed: {outcome.record.error}")
    return redirect("projects:alerts", project.pk)
