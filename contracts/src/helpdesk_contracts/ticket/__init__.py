"""Messages about tickets."""
