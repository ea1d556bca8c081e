"""istvhub.feedback: a monthly data-quality sheet for ONE department's ED analyst (issue 9.4)."""
