from django.conf import settings
from django.db import models


class UserPreferences(models.Model):
    """Per-user display settings: the time zone dates are shown in, and light/dark/system theme."""

    class Theme(models.TextChoices):
        SYSTEM = "system", "Follow the system"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    timezone = models.CharField(max_length=64, default="UTC")
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.SYSTEM)
    # REQUIRE_2FA: when the grace to set up a second factor ends (started at the first sign-in without one)
    two_factor_grace_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"preferences of {self.user}"
