from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import sessions, sso, theme, tokens, two_factor, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("setup/", views.setup, name="setup"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/notifications/", views.notifications, name="notifications"),
    path("preferences/theme/", theme.set_theme, name="theme"),
    path("preferences/tokens/", tokens.tokens, name="tokens"),
    path("preferences/tokens/<int:token_pk>/revoke/", tokens.revoke, name="token_revoke"),
    path("preferences/two-factor/", two_factor.overview, name="two_factor"),
    path("preferences/two-factor/recovery-codes/", two_factor.recovery_codes, name="recovery_codes"),
    path("preferences/two-factor/remove/", two_factor.remove, name="two_factor_remove"),
    path("preferences/sessions/", sessions.session_list, name="sessions"),
    path("preferences/sessions/end-others/", sessions.end_others, name="sessions_end_others"),
    path("email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("2fa/authenticate/", two_factor.second_step, name="two_factor_login"),
    path("oidc/callback/", sso.callback, name="sso_callback"),
    path("oidc/<str:provider_id>/login/", sso.login, name="sso_login"),
    path("sso/link/", sso.link_account, name="sso_link"),
    path("inactive/", views.inactive, name="inactive"),
    path("sso/cancelled/", views.sso_cancelled, name="sso_cancelled"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
