from .views import awards, internal, public

app_name = "evaluations"

# internal: /evaluations/…; public: /public/…/rate/ and results; awards: /evaluations/orgs/<pk>/awards/.
urlpatterns = internal.urlpatterns + public.urlpatterns + awards.urlpatterns
