"""The invoice benchmark's yardstick job: WeasyPrint renders a fixed one-page invoice (no database, no template),
so the machine's own speed can be divided out of the figures."""
ROWS = "".join(f"<tr><td>BENCH-{i:03d}</td><td>Stoneware piece no. {i}</td><td>1</td><td>18.50</td><td>18.50</td></tr>"
               for i in range(1, 4))
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 18mm; }} body {{ font-family: sans-serif; font-size: 10pt; }}
table {{ width: 100%; border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ccc; padding: 4px; }}
</style></head><body><h1>Invoice INV-2026-000001</h1><p>Bench Pottery, 1 Kiln Yard, Leeds LS1 4AB</p>
<p>Bill to: Customer 1, 1 High Street, Leeds LS1 4AB, GB</p>
<table><tr><th>SKU</th><th>Item</th><th>Qty</th><th>Unit</th><th>Total</th></tr>{ROWS}</table>
<p>Subtotal 55.50 · Shipping 3.95 · VAT 20% 9.91 · Total GBP 59.45</p></body></html>"""


def one_pdf() -> int:
    from weasyprint import HTML

    return len(HTML(string=PAGE).write_pdf())
