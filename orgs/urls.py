from django.urls import path

from . import views, views_audit, views_import
from .org_import import ORG_IMPORTER
from .roster_import import MEMBER_IMPORTER

ORGS = {"importer": ORG_IMPORTER}
MEMBERS = {"importer": MEMBER_IMPORTER}

app_name = "orgs"

urlpatterns = [
    path("orgs/", views.org_tree, name="tree"),
    path("orgs/suggest/", views.org_suggest, name="org_suggest"),
    path("orgs/import/", views_import.import_upload, ORGS, name="org_import"),
    path("orgs/import/template.xlsx", views_import.import_template, ORGS, name="org_import_template"),
    path("orgs/import/<str:token>/", views_import.import_preview, ORGS, name="org_import_preview"),
    path("orgs/import/<str:token>/confirm/", views_import.import_confirm, ORGS, name="org_import_confirm"),
    path("orgs/<int:pk>/", views.org_detail, name="detail"),
    path("orgs/<int:pk>/edit/", views.org_edit, name="edit"),
    path("orgs/<int:pk>/children/", views.org_tree_children, name="tree_children"),
    path("orgs/<int:pk>/children/new/", views.org_create_child, name="create_child"),
    path("orgs/<int:pk>/move/", views.org_move, name="move"),
    path("members/", views.member_list, name="member_list"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/import/", views_import.import_upload, MEMBERS, name="member_import"),
    path("members/import/template.xlsx", views_import.import_template, MEMBERS, name="member_import_template"),
    path("members/import/<str:token>/", views_import.import_preview, MEMBERS, name="member_import_preview"),
    path("members/import/<str:token>/confirm/", views_import.import_confirm, MEMBERS, name="member_import_confirm"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/transfer/", views.member_transfer, name="member_transfer"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/grants/", views.user_grant, name="user_grant"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("audit/", views_audit.audit_list, name="audit_list"),
    path("audit/<int:pk>/", views_audit.audit_detail, name="audit_detail"),
    path("audit/export.xlsx", views_audit.audit_export, name="audit_export"),
    path("accounts/security/", views.account_list, name="account_list"),
    path("accounts/security/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/security/<int:pk>/unlock/", views.account_unlock, name="account_unlock"),
    path("accounts/security/<int:pk>/reset/", views.account_reset, name="account_reset"),
    path("admin-requests/", views.admin_request_list, name="admin_request_list"),
    path("admin-requests/<int:pk>/decide/", views.admin_request_decide, name="admin_request_decide"),
    path("admin-requests/<int:pk>/cancel/", views.admin_request_cancel, name="admin_request_cancel"),
]
