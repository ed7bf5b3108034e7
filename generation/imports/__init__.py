"""Bulk catalogue import: our CSV format, Shopify and WooCommerce product exports.

reader (streaming CSV) → formats (header → product drafts) → validate (row report); options, stage (upload,
parse, validate), processing (fetch images in a worker), confirm (into one Batch); fetch is the SSRF-safe image
fetcher, zipimages the image archive.
"""
