// The lincheck gate of thread_pool (to be written).
