from django.urls import path

from tests.adminapp.admin import site

urlpatterns = [path("admin/", site.urls)]
