from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import theme, tokens, views

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
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
