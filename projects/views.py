from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from projects.access import visible_projects
from projects.models import Team


@login_required
def project_list(request):
    return render(request, "projects/list.html", {"projects": visible_projects(request.user), "nav": "projects"})


@login_required
def team_list(request):
    teams = Team.objects.all() if request.user.is_superuser else Team.objects.filter(memberships__user=request.user)
    return render(request, "projects/teams.html", {"teams": teams, "nav": "teams"})
