"""PDF documents: invoices and credit notes."""
from rq import get_current_job

from worker.app import job_context


def is_last_attempt() -> bool:
    """True when RQ will not retry the current job after this failure."""
    job = get_current_job()
    return job is None or not job.retries_left


def render_invoice_pdf(invoice_id: int) -> str:
    """Render an invoice or credit note to PDF and store it with the document (and queue its email)."""
    from webapp.background.dispatch import dispatch_pending
    from webapp.invoices.issuing import record_render_failure, render_invoice

    with job_context():
        try:
            outcome = render_invoice(invoice_id)
        except Exception as error:
            if is_last_attempt():
                record_render_failure(invoice_id, error)
            raise
        dispatch_pending()  # the email that carries it
        return outcome
