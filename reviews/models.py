"""The reviews app has no tables of its own: a review decision is part of the commitment's record
(commitments.models.ReviewDecision, CRITERIA, Decision). This app holds the queue and the pages that
make decisions (selectors, services, views)."""
