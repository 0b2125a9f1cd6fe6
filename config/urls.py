from django.contrib.auth import views as auth_views
from django.urls import include, path

from orgs import views as org_views
from orgs.forms import LoginForm
from portal.views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html",
                                                         authentication_form=LoginForm,
                                                         redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", org_views.password_change, name="password_change"),
    path("accounts/reset/<str:token>/", org_views.password_reset_confirm, name="password_reset_confirm"),
    path("", include("orgs.urls")),
    path("", include("commitments.urls")),
    path("reviews/", include("reviews.urls")),
    path("", include("evaluations.urls")),
    path("", include("portal.urls")),
]

handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
handler403 = "config.errors.permission_denied"
