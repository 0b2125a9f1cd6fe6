from .views import awards, internal, public, results_export

app_name = "evaluations"

# internal: /evaluations/…; public: /public/…/rate/ and results; awards: /evaluations/orgs/<pk>/awards/.
urlpatterns = internal.urlpatterns + public.urlpatterns + awards.urlpatterns + results_export.urlpatterns
