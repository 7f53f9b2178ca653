// The lincheck gate of shared_mutex (to be written).
