"""``register()``: import added to a model's admin, whatever was registered before.

Unit tests use a fresh ``AdminSite`` each, so ``admin.site`` is never changed.
The client tests use the site of ``tests/registration_urls.py``.
"""

from __future__ import annotations

import copy
import gc
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import DEFAULT_FORMATS
from import_export.resources import ModelResource

from admin_bulk_upsert import BulkUpsertAdminMixin, BulkUpsertResource, register
from admin_bulk_upsert.registration import RegisteredImportMixin
from tests.testapp.models import Account, LooseTransaction, Product, Transaction


@admin.action(description="Mark reconciled")
def mark_reconciled(modeladmin, request, queryset):
    queryset.update(description="reconciled")


class ProjectTransactionAdmin(admin.ModelAdmin):
    list_display = ["account", "datetime", "amount"]
    list_filter = ["account"]
    search_fields = ["description", "account__number"]
    actions = [mark_reconciled]

    def has_delete_permission(self, request, obj=None):
        return False


class AccountResource(BulkUpsertResource):
    class Meta:
        model = Account
        fields = ("number", "name")
        import_id_fields = ("number",)


@pytest.fixture
def site():
    yield admin.AdminSite(name="fresh")
    # A site and its ModelAdmins reference each other: collect them now, or
    # Django's admin checks (run_checks() in other tests) still see the site.
    gc.collect()


@pytest.fixture
def superuser_request(db):
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser("root", "root@example.com", "pw")
    return request


def _import_resource(model_admin):
    [resource_class] = model_admin.get_import_resource_classes(None)
    return resource_class


def _key(model_admin):
    return list(_import_resource(model_admin)._meta.import_id_fields)


def test_unregistered_model_gets_a_plain_admin_with_import(site):
    model_admin = register(Account, unique_fields=["number"], site=site)

    assert site.get_model_admin(Account) is model_admin
    assert type(model_admin).__name__ == "BulkUpsertModelAdmin"
    assert type(model_admin).__bases__ == (
        RegisteredImportMixin,
        BulkUpsertAdminMixin,
        admin.ModelAdmin,
    )
    resource_class = _import_resource(model_admin)
    assert issubclass(resource_class, BulkUpsertResource)
    assert resource_class._meta.model is Account
    assert list(resource_class._meta.import_id_fields) == ["number"]


def test_fields_limit_the_built_resource(site):
    model_admin = register(Product, unique_fields=["code"], fields=["code", "name"], site=site)

    assert list(_import_resource(model_admin).fields) == ["code", "name"]


def test_given_resource_class_is_used_as_is(site):
    model_admin = register(Account, resource_class=AccountResource, site=site)

    assert model_admin.get_import_resource_classes(None) == [AccountResource]


def test_resource_class_and_unique_fields_together_are_refused(site):
    with pytest.raises(TypeError) as excinfo:
        register(Account, unique_fields=["number"], resource_class=AccountResource, site=site)

    assert str(excinfo.value) == (
        "register() takes either resource_class or unique_fields/fields, not both: "
        "set the key and fields in the resource's Meta."
    )
    assert not site.is_registered(Account)


def test_project_admin_keeps_its_options_and_overrides(site, superuser_request):
    site.register(Transaction, ProjectTransactionAdmin)

    model_admin = register(Transaction, unique_fields=["account", "datetime", "amount"], site=site)

    assert site.get_model_admin(Transaction) is model_admin
    assert isinstance(model_admin, ProjectTransactionAdmin)
    assert type(model_admin).__name__ == "BulkUpsertProjectTransactionAdmin"
    assert model_admin.get_list_display(superuser_request) == ["account", "datetime", "amount"]
    assert model_admin.get_search_fields(superuser_request) == ["description", "account__number"]
    assert model_admin.get_list_filter(superuser_request) == ["account"]
    # The project's action is kept; Django drops delete_selected because the
    # project's has_delete_permission() still answers False for a superuser.
    assert list(model_admin.get_actions(superuser_request)) == ["mark_reconciled"]
    assert model_admin.has_delete_permission(superuser_request) is False
    assert _key(model_admin) == ["account", "datetime", "amount"]


def test_options_given_to_site_register_are_kept(site, superuser_request):
    site.register(Account, list_display=["number", "name", "active"], search_fields=["name"])

    model_admin = register(Account, unique_fields=["number"], site=site)

    assert model_admin.get_list_display(superuser_request) == ["number", "name", "active"]
    assert model_admin.get_search_fields(superuser_request) == ["name"]


def test_user_admin_keeps_its_behaviour(site, superuser_request):
    site.register(User, UserAdmin)

    model_admin = register(
        User, unique_fields=["username"], fields=["username", "email"], site=site
    )

    assert isinstance(model_admin, UserAdmin)
    assert model_admin.get_list_display(superuser_request) == UserAdmin.list_display
    assert model_admin.get_fieldsets(superuser_request) == UserAdmin.add_fieldsets
    assert model_admin.get_form(superuser_request).__mro__[1] is AdminUserCreationForm
    url_names = {pattern.name for pattern in model_admin.get_urls()}
    assert {"auth_user_password_change", "auth_user_import", "auth_user_changelist"} <= url_names


def test_registering_twice_replaces_the_resource_without_stacking(site):
    site.register(Transaction, ProjectTransactionAdmin)
    register(Transaction, unique_fields=["account", "datetime", "amount"], site=site)

    model_admin = register(Transaction, unique_fields=["account", "datetime"], site=site)

    admin_class = type(model_admin)
    assert admin_class.__name__ == "BulkUpsertProjectTransactionAdmin"
    assert admin_class.__bases__ == (
        RegisteredImportMixin,
        BulkUpsertAdminMixin,
        ProjectTransactionAdmin,
    )
    assert admin_class.__mro__.count(BulkUpsertAdminMixin) == 1
    assert _key(model_admin) == ["account", "datetime"]


def test_admin_that_already_has_the_mixin_gets_the_new_resource(site):
    class OwnImportAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
        resource_classes = [AccountResource]
        list_display = ["number"]

    site.register(Account, OwnImportAdmin)

    model_admin = register(Account, unique_fields=["name"], site=site)

    assert type(model_admin).__bases__ == (RegisteredImportMixin, OwnImportAdmin)
    assert type(model_admin).__mro__.count(BulkUpsertAdminMixin) == 1
    assert _key(model_admin) == ["name"]
    assert model_admin.list_display == ["number"]


class AccountExportResource(ModelResource):
    class Meta:
        model = Account
        fields = ("number",)


def test_die_admin_keeps_its_export_resource(site, superuser_request):
    class ExportingAdmin(ImportExportModelAdmin):
        resource_classes = [AccountExportResource]

    site.register(Account, ExportingAdmin)

    model_admin = register(Account, unique_fields=["number"], site=site)

    assert model_admin.get_export_resource_classes(superuser_request) == [AccountExportResource]
    assert issubclass(_import_resource(model_admin), BulkUpsertResource)
    assert _key(model_admin) == ["number"]


def test_custom_change_list_template_is_extended(site):
    class TemplatedAdmin(admin.ModelAdmin):
        change_list_template = "ledger/account_change_list.html"

    site.register(Account, TemplatedAdmin)

    model_admin = register(Account, unique_fields=["number"], site=site)

    # DIE's changelist template renders the import button and extends the
    # template named in ie_base_change_list_template.
    assert model_admin.ie_base_change_list_template == "ledger/account_change_list.html"
    assert model_admin.change_list_template != "ledger/account_change_list.html"


def test_admin_checks_report_the_import_resource(site):
    model_admin = register(
        LooseTransaction, unique_fields=["account", "datetime", "amount"], site=site
    )

    [message] = model_admin.check()
    assert (message.id, message.obj) == ("admin_bulk_upsert.W001", model_admin)


def test_admin_checks_refuse_a_row_by_row_resource(site):
    model_admin = register(Account, resource_class=AccountExportResource, site=site)

    [message] = model_admin.check()
    assert (message.id, message.obj) == ("admin_bulk_upsert.E001", model_admin)


def test_other_sites_are_untouched(site):
    before = admin.site._registry.get(Account)

    register(Account, unique_fields=["number"], site=site)

    assert admin.site._registry.get(Account) is before


# Client tests: the admin site of tests/registration_urls.py.

LEDGER_TEMPLATE = """{% extends "admin/change_list.html" %}
{% block content_title %}<h1 class="ledger-title">Ledger transactions</h1>{% endblock %}
{% block object-tools-items %}
<li><a href="#" class="ledger-reconcile">Reconcile</a></li>{{ block.super }}
{% endblock %}
"""


def _templates_with_ledger():
    """The suite's TEMPLATES plus the project template TransactionAdmin names."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["APP_DIRS"] = False
    templates[0]["OPTIONS"]["loaders"] = [
        (
            "django.template.loaders.locmem.Loader",
            {"ledger/transaction_change_list.html": LEDGER_TEMPLATE},
        ),
        "django.template.loaders.app_directories.Loader",
    ]
    return templates


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _has_link(content, url):
    return re.search(rf"<a href=[\"']{re.escape(url)}[\"']", content) is not None


@pytest.mark.urls("tests.registration_urls")
def test_changelist_shows_the_import_button(superuser_client):
    import_url = reverse("registration_admin:testapp_account_import")

    response = superuser_client.get(reverse("registration_admin:testapp_account_changelist"))

    assert response.status_code == 200
    assert _has_link(response.content.decode(), import_url)
    assert superuser_client.get(import_url).status_code == 200


@pytest.mark.urls("tests.registration_urls")
def test_user_changelist_keeps_user_admin_and_shows_import(superuser_client):
    import_url = reverse("registration_admin:auth_user_import")

    response = superuser_client.get(reverse("registration_admin:auth_user_changelist"))

    content = response.content.decode()
    assert response.status_code == 200
    assert _has_link(content, import_url)
    # UserAdmin's own list_display and list_filter are still rendered.
    assert "column-is_staff" in content
    assert "By superuser status" in content
    assert superuser_client.get(import_url).status_code == 200


@pytest.mark.urls("tests.registration_urls")
def test_project_changelist_template_still_renders(superuser_client):
    import_url = reverse("registration_admin:testapp_transaction_import")
    account = Account.objects.create(number="A-1")
    # The action menu is only rendered for a list with rows.
    Transaction.objects.create(account=account, datetime=timezone.now(), amount="1.500")

    with override_settings(TEMPLATES=_templates_with_ledger()):
        response = superuser_client.get(
            reverse("registration_admin:testapp_transaction_changelist")
        )

    content = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="ledger-title">Ledger transactions</h1>' in content
    assert 'class="ledger-reconcile"' in content
    assert _has_link(content, import_url)
    assert "Mark reconciled" in content
    assert "Delete selected" not in content


@pytest.mark.urls("tests.registration_urls")
def test_import_through_a_registered_user_admin(superuser_client, settings, tmp_path):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path)}
    User.objects.create_user("alice", "old@example.com")
    csv = "username,email\nalice,alice@example.com\nbob,bob@example.com\n"

    preview = superuser_client.post(
        reverse("registration_admin:auth_user_import"),
        {
            "resource": "0",
            "format": _csv_format_index(),
            "import_file": SimpleUploadedFile("users.csv", csv.encode(), "text/csv"),
            "import_id_fields": ["username"],
        },
    )
    token = re.search(r'name="token" value="([^"]+)"', preview.content.decode()).group(1)
    response = superuser_client.post(
        reverse("registration_admin:auth_user_process_import"), {"token": token}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("registration_admin:auth_user_changelist")
    assert dict(User.objects.values_list("username", "email")) == {
        "root": "root@example.com",
        "alice": "alice@example.com",
        "bob": "bob@example.com",
    }


def _csv_format_index():
    titles = [f().get_title() for f in DEFAULT_FORMATS if f().can_import()]
    return str(titles.index("csv"))
