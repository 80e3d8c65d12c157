"""The life of a generation: queue, job, worker, reconcile pass and live preview, beside the model."""
