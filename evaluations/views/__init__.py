"""评诺 pages: internal (evaluation list and page, rectification), public (ratings and results)
and the awards basis. Each module owns its own `urlpatterns`; evaluations/urls.py joins them."""
