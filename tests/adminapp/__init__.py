"""ModelAdmins with bulk import on the test models, on their own admin site.

The site and its URLs (``tests.adminapp.urls``) are used by ``tests/admin/``
through ``settings.ROOT_URLCONF``, so this app needs no ``INSTALLED_APPS`` entry.
"""
