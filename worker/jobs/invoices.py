"""PDF documents: invoices and credit notes."""
from worker.app import job_context


def render_invoice_pdf(invoice_id: int) -> str:
    """Render an invoice or credit note to PDF and store it with the document."""
    from webapp.background.dispatch import dispatch_pending
    from webapp.invoices.issuing import render_invoice

    with job_context():
        outcome = render_invoice(invoice_id)
        dispatch_pending()  # the email that carries it
        return outcome
