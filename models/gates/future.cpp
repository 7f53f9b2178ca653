// The lincheck gate of future (to be written).
