"""The pages of projects, their people and teams, one module per thing they show:

- `projects`: the project list, creating a project, its SDK setup page and its general settings;
- `members`: a project's members page and invitations, and accepting an invitation;
- `teams`: teams and a team's page;
- `memberships`: adding someone, changing a role, removing someone: one set of views for a project's members and
  a team's (members.PROJECT_PAGES and teams.TEAM_PAGES say what differs);
- `base`: what they share (finding the project or refusing, form errors as a message).

A project's alert settings are alerts.views (under the same `projects:` URL names).

Access: everything needs a login (but accepting an invitation, which may create the account). A project outside
the user's projects is a 404 (see projects.access); a member who is not an admin gets a 403 on the settings pages
and actions (they know the project exists). Every state change is a POST.
"""
