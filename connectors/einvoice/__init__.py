"""VAT e-invoices (PDF and OFD, 数电票 and legacy 增值税电子发票) as sales or purchase invoices."""
