// The lincheck gate of semaphore (to be written).
