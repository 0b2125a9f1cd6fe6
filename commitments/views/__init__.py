"""Pages of the commitments app, one module per area; commitments/urls.py routes to them."""
