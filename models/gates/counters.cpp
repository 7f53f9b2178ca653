// The lincheck gate of counters (to be written).
