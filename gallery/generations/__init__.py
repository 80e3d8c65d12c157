"""The life of a generation, beside the model: the service (the one way in for pages and the API), the
lifecycle (every status change), queue, jobs, worker, reconcile pass and live preview."""
