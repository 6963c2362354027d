"""Small shared helpers with one implementation each: money (parse and show đồng), text
folding, safe redirects. See "Where the rules live" in the README."""
