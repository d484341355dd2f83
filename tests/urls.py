from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls)]

if find_spec("rest_framework"):
    from tests.drf.api import router

    urlpatterns.append(path("api/", include(router.urls)))
