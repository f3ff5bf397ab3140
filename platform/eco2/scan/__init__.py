"""scan's domain: photo to category, disposal guide and missing steps (classify), and the scan history."""
