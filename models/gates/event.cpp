// The lincheck gate of event (to be written).
