"""What the project, member, team and alert-settings pages share: the project looked up among the user's (or
refused), and a form's errors as one message line."""

from functools import wraps

from django.shortcuts import render

from projects.access import get_project_or_404, is_project_admin


def project_view(admin: bool = False):
    """Look the project up among the user's (404 otherwise) and pass it to the view; `admin=True` also requires
    the user to be a project admin (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, project_id, *args, **kwargs):
            project = get_project_or_404(request.user, project_id)
            if admin and not is_project_admin(request.user, project):
                return render(request, "projects/forbidden.html", {"project": project, "nav": "projects"}, status=403)
            return view(request, project, *args, **kwargs)

        return wrapped

    return decorator


def form_errors(form) -> str:
    """For the forms posted from a table row (a role select): their errors go to a message above the page."""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
