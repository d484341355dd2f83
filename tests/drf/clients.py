"""API clients of users with chosen permissions, for the permission tests of every endpoint."""

from django.contrib.auth.models import Permission
from rest_framework.test import APIClient


def client_with(user_model, name, *codenames):
    """An ``APIClient`` authenticated as a new user ``name`` holding only ``codenames``."""
    user = user_model.objects.create_user(name, f"{name}@example.com", "pw")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.force_authenticate(user)
    return client
