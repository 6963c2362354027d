"""Producer profiles: the public producer pages and the farmer's own shop."""
