"""Bulk catalogue import: our CSV format, Shopify and WooCommerce product exports (DESIGN.md: csv_import).

reader (streaming CSV) → formats (header → product drafts) → validate (row report) → services (stage, fetch
images in a worker, confirm into one Batch); fetch is the SSRF-safe image fetcher, zipimages the image archive.
"""
